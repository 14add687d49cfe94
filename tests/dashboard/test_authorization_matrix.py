"""Every route and every WebSocket event type, for every role of two stations (and the
admins above them): each user gets exactly what it may, and nothing of the other station;
and every user's WebSocket and REST access ends with their session (logout, a revoked
token, the user disabled), however they were logged in.

The expectations are written out here by hand (not derived from dashboard.scope), and the
test fails when the app gains a route this table does not list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from dashboard.scope import scope_for
from dashboard.ws import CLOSE_UNAUTHENTICATED, Broadcaster, Event, visible
from hub.store.base import VisitRecord, VisitTask
from tests.dashboard.conftest import World

SUP_A, STAFF_A, FAM_A = "station_supervisor.a", "station_staff.a", "family.a"
SUP_B, STAFF_B, FAM_B = "station_supervisor.b", "station_staff.b", "family.b"
DIST, DIST_X, CITY, VENDOR = "district_admin.pd", "district_admin.xh", "city_admin", "vendor.acme"
USERS = (SUP_A, STAFF_A, FAM_A, SUP_B, STAFF_B, FAM_B, DIST, DIST_X, CITY, VENDOR)
CARE_A = {SUP_A, STAFF_A, DIST, CITY}
MANAGE_A = {SUP_A, DIST, CITY}
EVERYONE = set(USERS)
NOT_VENDOR = EVERYONE - {VENDOR}
CARE_ALL = {SUP_A, STAFF_A, SUP_B, STAFF_B, DIST, DIST_X, CITY}
PUBLIC = "public"

# (method, path template) -> (users allowed on station A's objects, request body)
ROUTES: dict[tuple[str, str], tuple[set[str] | str, Any]] = {
    ("GET", "/healthz"): (PUBLIC, None),
    ("GET", "/metrics"): (PUBLIC, None),
    ("POST", "/api/auth/login"): (PUBLIC, None),
    ("POST", "/api/auth/logout"): (EVERYONE, None),
    ("POST", "/api/auth/refresh"): (EVERYONE, None),
    ("GET", "/api/me"): (EVERYONE, None),
    ("PATCH", "/api/me"): (EVERYONE, {"language": "en"}),
    ("GET", "/api/me/tokens"): (EVERYONE, None),
    ("POST", "/api/me/tokens"): (EVERYONE, {"name": "t"}),
    ("DELETE", "/api/me/tokens/{token_id}"): (EVERYONE, None),
    ("GET", "/api/districts"): (NOT_VENDOR, None),
    ("GET", "/api/stations"): (NOT_VENDOR, None),
    ("POST", "/api/stations"): ({DIST, CITY}, {"id": "st-new", "district_id": "pd", "name": "n"}),
    ("GET", "/api/stations/{station_id}"): (CARE_A | {FAM_A}, None),
    ("PATCH", "/api/stations/{station_id}"): ({DIST, CITY}, {"timezone": "Asia/Urumqi"}),
    ("GET", "/api/stations/{station_id}/policy"): (CARE_A, None),
    ("PUT", "/api/stations/{station_id}/policy"): (MANAGE_A, {}),
    ("GET", "/api/residents"): (NOT_VENDOR, None),
    ("POST", "/api/residents"): (MANAGE_A, {"id": "r-new", "station_id": "st-a", "name": "n"}),
    ("GET", "/api/residents/{resident_id}"): (CARE_A | {FAM_A}, None),
    ("PUT", "/api/residents/{resident_id}/status"): (CARE_A, {"status": "away"}),
    ("PATCH", "/api/residents/{resident_id}"): (MANAGE_A, {"address": "新地址"}),
    ("POST", "/api/residents/import"): (
        MANAGE_A,
        {"station_id": "st-a", "csv": "id,name\nr-csv,n\n"},
    ),
    ("GET", "/api/residents/{resident_id}/vitals"): (CARE_A | {FAM_A}, None),
    ("GET", "/api/residents/{resident_id}/events"): (CARE_A | {FAM_A}, None),
    ("GET", "/api/residents/{resident_id}/timeline"): (CARE_A | {FAM_A}, None),
    ("GET", "/api/devices"): (NOT_VENDOR - {FAM_A, FAM_B} | {VENDOR}, None),
    ("GET", "/api/devices/unprovisioned"): ({SUP_A, SUP_B, DIST, DIST_X, CITY}, None),
    ("POST", "/api/devices"): (MANAGE_A, {"id": "w-new", "kind": "wearable", "resident_id": "r-a"}),
    ("POST", "/api/devices/import"): (
        MANAGE_A,
        {"station_id": "st-a", "csv": "id,kind,resident_id\nw-csv,wearable,r-a\n"},
    ),
    ("GET", "/api/devices/{device_id}"): (CARE_A | {VENDOR}, None),
    ("GET", "/api/devices/{device_id}/refusals"): (MANAGE_A | {VENDOR}, None),
    ("POST", "/api/devices/{device_id}/ping"): (MANAGE_A | {VENDOR}, None),
    ("GET", "/api/alerts"): (NOT_VENDOR, None),
    ("GET", "/api/alerts/{alert_id}"): (CARE_A | {FAM_A}, None),
    ("GET", "/api/alerts/{alert_id}/timeline"): (CARE_A | {FAM_A}, None),
    ("POST", "/api/alerts/{alert_id}/acknowledge"): (CARE_A, {}),
    ("POST", "/api/alerts/{alert_id}/assign"): (CARE_A, {"assignee": STAFF_A}),
    ("POST", "/api/alerts/{alert_id}/resolve"): (CARE_A, {"outcome": "test"}),
    ("POST", "/api/alerts/{alert_id}/comments"): (CARE_A | {FAM_A}, {"text": "hi"}),
    ("POST", "/api/alerts/{alert_id}/going"): ({FAM_A}, None),
    ("GET", "/api/silences"): ({SUP_A, STAFF_A, SUP_B, STAFF_B, DIST, DIST_X, CITY}, None),
    ("POST", "/api/silences"): (MANAGE_A, {"end": 2e9, "reason": "drill", "station_id": "st-a"}),
    ("DELETE", "/api/silences/{silence_id}"): (MANAGE_A, None),
    ("GET", "/api/users"): ({SUP_A, SUP_B, DIST, DIST_X, CITY}, None),
    ("POST", "/api/users"): (
        MANAGE_A,
        {
            "id": "new.staff",
            "name": "n",
            "role": "station_staff",
            "scope_id": "st-a",
            "password": "long enough pw",
        },
    ),
    ("PATCH", "/api/users/{user_id}"): (MANAGE_A, {"name": "renamed"}),
    ("GET", "/api/services"): (CARE_ALL, None),
    ("POST", "/api/services"): (
        MANAGE_A,
        {
            "id": "sv-new",
            "station_id": "st-a",
            "kind": "bathing",
            "name": "n",
            "duration_min": 60,
            "price_cents": 100,
        },
    ),
    ("PATCH", "/api/services/{service_id}"): (MANAGE_A, {"price_cents": 1200}),
    ("GET", "/api/workers"): (CARE_ALL, None),
    ("POST", "/api/workers"): (MANAGE_A, {"id": "cw-new", "station_id": "st-a", "name": "n"}),
    ("GET", "/api/workers/me"): ({STAFF_A, STAFF_B}, None),  # each their own
    ("PATCH", "/api/workers/{worker_id}"): (MANAGE_A, {"phone": "139"}),
    ("PUT", "/api/workers/{worker_id}/position"): ({STAFF_A}, {"lat": 31.2, "lon": 121.5}),
    ("GET", "/api/orders"): (CARE_ALL, None),
    ("POST", "/api/orders"): (
        CARE_A,
        {"service_id": "sv-a", "resident_id": "r-a", "scheduled_at": 1_767_232_800},
    ),
    ("POST", "/api/orders/from-alert/{alert_id}"): (CARE_A, None),
    ("GET", "/api/orders/{order_id}"): (CARE_A, None),
    ("POST", "/api/orders/{order_id}/cancel"): (CARE_A, {"reason": "r"}),
    ("GET", "/api/orders/{order_id}/proposal"): (CARE_A, None),
    ("POST", "/api/orders/propose"): (CARE_A, {"station_id": "st-a"}),
    ("POST", "/api/orders/{order_id}/assign"): (CARE_A, {"worker_id": "cw-a", "force": True}),
    ("POST", "/api/orders/{order_id}/accept"): ({STAFF_A}, None),
    ("POST", "/api/orders/{order_id}/arrive"): ({STAFF_A}, {"lat": 31.2, "lon": 121.5}),
    ("POST", "/api/orders/{order_id}/done"): ({STAFF_A}, {"notes": "ok"}),
    ("GET", "/api/residents/{resident_id}/visit-plan"): (CARE_A | {FAM_A}, None),
    ("PUT", "/api/residents/{resident_id}/visit-plan"): (MANAGE_A, {"cadence": "weekly"}),
    ("POST", "/api/residents/{resident_id}/discharges"): (CARE_A, {}),
    ("GET", "/api/visits"): (NOT_VENDOR, None),
    ("GET", "/api/visits/{task_id}"): (CARE_A | {FAM_A}, None),
    ("POST", "/api/visits/{task_id}/record"): (
        CARE_A,
        {"mood": "good", "mobility": "walks_alone", "living": "good"},
    ),
    ("GET", "/api/ratings"): (NOT_VENDOR, None),
    ("PUT", "/api/ratings/{subject_kind}/{subject_id}"): ({FAM_A}, {"score": 4}),
    ("GET", "/api/residents/{resident_id}/completed-orders"): (CARE_A | {FAM_A}, None),
    ("GET", "/api/residents/{resident_id}/fhir"): (CARE_A, None),
    # without parameters each caller gets their own scope (tests/dashboard/test_kpi_api.py
    # checks who may ask for which station, district or city)
    ("GET", "/api/kpi"): (NOT_VENDOR - {FAM_A, FAM_B}, None),
    ("GET", "/api/kpi/csv"): (NOT_VENDOR - {FAM_A, FAM_B}, None),
    ("WS", "/ws"): (EVERYONE, None),
}


def _walk(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every route, descending into included routers (FastAPI keeps them wrapped)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes, prefix + route.include_context.prefix)
        else:
            yield prefix, route


def _app_routes(world: World) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for prefix, route in _walk(world.app.routes):
        if isinstance(route, APIRoute):
            if route.include_in_schema:
                found |= {(m, prefix + route.path) for m in route.methods if m != "HEAD"}
        elif isinstance(route, WebSocketRoute):
            found.add(("WS", prefix + route.path))
    return found


def test_every_route_is_in_the_matrix(world: World) -> None:
    assert _app_routes(world) == set(ROUTES)


def _visit_tasks(world: World) -> None:
    """An open visit task of each station's resident, and a done one of station A's (to
    rate); made once per world."""
    if world.store.list_visit_tasks():
        return
    tasks = [
        VisitTask(f"t-{s}", f"r-{s}", f"st-{s}", "visit", "plan", "2026-01-07", 1, 2e9, 0.0)
        for s in ("a", "b")
    ]
    tasks.append(replace(tasks[0], id="t-done"))
    world.store.add_visit_tasks(tasks)
    world.store.record_visit(VisitRecord("t-done", "", "", "x", 1.0, 1.0, "good", "walks_alone",
                                         "good"))  # fmt: skip


def _params(world: World, user: str) -> dict[str, str]:
    _visit_tasks(world)
    token = world.client.post("/api/me/tokens", json={"name": "x"}, headers=world.as_user(user))
    silence = world.client.post(
        "/api/silences", json={"end": 2e9, "reason": "r", "station_id": "st-a"},
        headers=world.as_user(CITY),
    ).json()["id"]  # fmt: skip
    return {
        "station_id": "st-a", "resident_id": "r-a", "device_id": "w-a",
        "alert_id": world.alerts["a"], "user_id": STAFF_A, "silence_id": silence,
        "token_id": token.json()["id"], "service_id": "sv-a", "worker_id": "cw-a",
        "order_id": "ord-a", "task_id": "t-a", "subject_kind": "visit",
        "subject_id": "t-done",
    }  # fmt: skip


@pytest.mark.parametrize("key", [k for k in ROUTES if k[0] != "WS" and ROUTES[k][0] != PUBLIC])
def test_route_authorization(world: World, key: tuple[str, str]) -> None:
    method, template = key
    allowed, body = ROUTES[key]
    assert isinstance(allowed, set)
    # the denied first: a write that went through would change what the next user sees
    for user in sorted(USERS, key=lambda u: u in allowed):
        headers = world.as_user(user)
        path = template.format(**_params(world, user))
        if method == "PUT" and template.endswith("/policy"):
            body = {"roles": {"station": ["json://127.0.0.1:9/x"]}}
        r = world.client.request(method, path, json=body, headers=headers)
        if user in allowed:
            assert r.status_code not in (401, 403, 404), (user, path, r.text)
        else:
            assert r.status_code in (403, 404), (user, path, r.status_code, r.text)
            assert set(r.json()) == {"error"}


def test_unauthenticated_gets_401_everywhere(world: World) -> None:
    for (method, template), (allowed, body) in ROUTES.items():
        if method == "WS" or allowed == PUBLIC:
            continue
        path = template.format(station_id="st-a", resident_id="r-a", device_id="w-a",
                               alert_id="x", user_id="x", silence_id="x", token_id="x",
                               service_id="x", worker_id="x", order_id="x",
                               task_id="x", subject_kind="visit", subject_id="x")  # fmt: skip
        r = world.client.request(method, path, json=body)
        assert r.status_code == 401, (method, path)
        assert r.json()["error"]["code"] == "unauthorized"


LISTS = {
    "/api/stations": ("id", {"st-a": CARE_A | {FAM_A}, "st-b": {SUP_B, STAFF_B, FAM_B, DIST, CITY},
                             "st-x": {DIST_X, CITY}}),
    "/api/residents": ("id", {"r-a": CARE_A | {FAM_A}, "r-b": {SUP_B, STAFF_B, FAM_B, DIST, CITY}}),
    "/api/devices": ("id", {"w-a": CARE_A | {VENDOR}, "w-b": {SUP_B, STAFF_B, DIST, CITY}}),
    "/api/alerts": ("station_id", {"st-a": CARE_A | {FAM_A},
                                   "st-b": {SUP_B, STAFF_B, FAM_B, DIST, CITY}}),
    "/api/services": ("station_id", {"st-a": CARE_A, "st-b": {SUP_B, STAFF_B, DIST, CITY}}),
    "/api/workers": ("station_id", {"st-a": CARE_A, "st-b": {SUP_B, STAFF_B, DIST, CITY}}),
    "/api/orders": ("station_id", {"st-a": CARE_A, "st-b": {SUP_B, STAFF_B, DIST, CITY}}),
    "/api/visits": ("resident_id", {"r-a": CARE_A | {FAM_A},
                                    "r-b": {SUP_B, STAFF_B, FAM_B, DIST, CITY}}),
}  # fmt: skip


@pytest.mark.parametrize("path", list(LISTS))
def test_lists_show_exactly_the_visible_objects(world: World, path: str) -> None:
    field, owners = LISTS[path]
    _visit_tasks(world)
    for user in USERS:
        r = world.client.get(path, headers=world.as_user(user))
        if r.status_code == 403:
            assert all(user not in who for who in owners.values()), user
            continue
        body = r.json()
        items = body["items"] if isinstance(body, dict) else body
        got = {item[field] for item in items}
        assert got == {k for k, who in owners.items() if user in who}, (user, path)


@pytest.mark.parametrize(
    ("ev", "receivers"),
    [
        (Event(1, "alert", "", "st-a", "r-a", "clinical"), CARE_A | {FAM_A}),
        (Event(1, "alert", "", "st-a", None, "technical"), CARE_A),
        (Event(1, "timeline", "", "st-a", "r-a", "clinical"), CARE_A | {FAM_A}),
        (Event(1, "resident", "", "st-a", "r-a"), CARE_A | {FAM_A}),
        (Event(1, "vitals", "", "st-a", "r-a"), CARE_A | {FAM_A}),
        (Event(1, "device", "", "st-a", "r-a", "technical", "acme"), CARE_A | {VENDOR}),
        (Event(1, "device", "", None, None, "technical", "acme"), {VENDOR}),
        (Event(1, "order", "", "st-a", "r-a"), CARE_A),
        (Event(1, "unknown", "", "st-a", "r-a"), set()),
    ],
    ids=["alert", "technical-alert", "timeline", "resident", "vitals", "device",
         "unbound-device", "order", "unknown"],
)  # fmt: skip
def test_websocket_event_types(world: World, ev: Event, receivers: set[str]) -> None:
    got = {u for u in USERS if visible(scope_for(world.store, world.store.get_user(u)), ev)}
    assert got == receivers


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("via", ["session", "token"])
@pytest.mark.parametrize("end", ["logout", "disable"])
def test_websocket_and_rest_after_logout_and_disable(
    world: World, user: str, via: str, end: str
) -> None:
    """``logout``: the session logs out, or the token is revoked (a token's logout);
    ``disable``: the user is disabled in the store, as ``carehub users`` does. Rechecks
    are run here, not waited for (tests/dashboard/test_ws_sessions.py has the timing)."""
    c, ctx = world.client, world.app.state.ctx
    b: Broadcaster = ctx.broadcaster
    bystander = DIST if user != DIST else CITY
    if via == "session":
        csrf = world.login(user)  # the client's cookie jar holds the session from now on
        headers: dict[str, str] = {}
    else:
        row, token = ctx.auth.new_token(user, "matrix")
        headers = {"Authorization": f"Bearer {token}"}
    with (
        c.websocket_connect("/ws", headers=headers) as ws,
        c.websocket_connect("/ws", headers=world.as_user(bystander)) as other,
    ):
        assert ws.receive_json()["type"] == "snapshot"
        assert other.receive_json()["type"] == "snapshot"
        assert c.get("/api/me", headers=headers).status_code == 200
        c.portal.call(b.recheck)  # type: ignore[union-attr]
        assert {cl.scope.user_id for cl in b.clients} == {user, bystander}  # nothing ends yet
        if end == "disable":
            world.store.update_user(replace(world.store.get_user(user), disabled=True))
        elif via == "session":
            assert c.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
        else:
            assert c.delete(f"/api/me/tokens/{row.id}", headers=headers).status_code == 200
        c.portal.call(b.recheck)  # type: ignore[union-attr]
        assert {cl.scope.user_id for cl in b.clients} == {bystander}
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert info.value.code == CLOSE_UNAUTHENTICATED
        other.send_json({"type": "ping"})
        assert other.receive_json() == {"type": "pong"}
    assert c.get("/api/me", headers=headers).status_code == 401
    with c.websocket_connect("/ws", headers=headers) as ws, pytest.raises(WebSocketDisconnect):
        ws.receive_text()
