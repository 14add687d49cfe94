"""Headers and bodies: security headers (and no server banner), strict JSON without NaN or
Infinity, known time zones and languages only, ``assign`` within the alert's station, ids
of other stations answered as missing (404, and a 409 that names nothing), errors with a
code and a message in the caller's language but never driver or pydantic text; and
provisioning that checks the resident and the gateway together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.settings import DashboardSettings
from hub.errors import StoreError, StoreUnavailable
from hub.store.base import Device
from tests.dashboard.conftest import T0, World, error_code
from tests.dashboard.served import Served

SUP_A, STAFF_A, FAM_A = "station_supervisor.a", "station_staff.a", "family.a"


# --- headers --------------------------------------------------------------------------------


def test_security_headers_on_pages_api_and_probes(world: World) -> None:
    h = world.as_user(STAFF_A)
    for path in ("/static/index.html", "/api/me", "/healthz", "/api/nothing-here"):
        r = world.client.get(path, headers=h)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp, path
        assert "unsafe-inline" not in csp and "default-src 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in r.headers  # development: maybe plain HTTP
    assert world.client.get("/api/me", headers=h).headers["cache-control"] == "no-store"
    # the OpenAPI viewer loads from FastAPI's CDN: its page alone allows that
    docs = world.client.get("/docs").headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in docs and "frame-ancestors 'none'" in docs


def test_production_sends_hsts(world: World) -> None:
    settings = DashboardSettings(environment="production", session_secret="s" * 40)
    client = TestClient(create_app(world.hub, settings, clock=world.clock))
    r = client.get("/healthz")
    assert r.headers["strict-transport-security"] == "max-age=31536000"


async def test_no_server_banner(serve: Callable[..., Served]) -> None:
    s = serve()
    async with httpx.AsyncClient(base_url=s.url) as c:
        r = await c.get("/healthz")
    assert "server" not in r.headers
    assert r.headers["x-content-type-options"] == "nosniff"


# --- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"end": Infinity, "reason": "r", "station_id": "st-a"}',
        '{"end": NaN, "reason": "r", "station_id": "st-a"}',
        '{"end": -Infinity, "reason": "r", "station_id": "st-a"}',
        '{"end": 1e999, "reason": "r", "station_id": "st-a"}',
        '{"end": "Infinity", "reason": "r", "station_id": "st-a"}',
        '{"end": "nan", "reason": "r", "station_id": "st-a"}',
    ],
)
def test_json_without_nan_or_infinity(world: World, text: str) -> None:
    h = world.as_user(SUP_A) | {"Content-Type": "application/json"}
    r = world.client.post("/api/silences", content=text, headers=h)
    assert r.status_code == 422 and error_code(r) == "validation_error", r.text
    assert world.client.get("/api/silences", headers=h).json() == []


def test_a_policy_takes_no_infinite_numbers(world: World) -> None:
    h = world.as_user(SUP_A)
    plan = {"steps": [{"after_s": 0, "notify": ["station"]}], "repeat_every_s": "Infinity"}
    body = {"roles": {"station": ["json://127.0.0.1:9/x"]}, "high": plan}
    r = world.client.put("/api/stations/st-a/policy", json=body, headers=h)
    assert r.status_code == 422, r.text
    assert world.client.get("/api/stations/st-a/policy", headers=h).json()["default"]


def test_query_floats_are_finite_too(world: World) -> None:
    r = world.client.get("/api/residents/r-a/vitals?until=inf", headers=world.as_user(STAFF_A))
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/me", {"timezone": "Mars/Olympus_Mons"}),
        ("PATCH", "/api/me", {"timezone": "../../etc/passwd"}),
        ("PATCH", "/api/me", {"language": "fr"}),
        ("POST", "/api/users", {"id": "u1", "name": "n", "role": "station_staff",
                                "scope_id": "st-a", "password": "long enough",
                                "timezone": "Asia/Beijing"}),
        ("POST", "/api/users", {"id": "u2", "name": "n", "role": "station_staff",
                                "scope_id": "st-a", "password": "long enough",
                                "language": "klingon"}),
        ("PATCH", "/api/stations/st-a", {"timezone": "Shanghai"}),
    ],
)  # fmt: skip
def test_unknown_time_zones_and_languages_are_refused(
    world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    h = world.as_user("city_admin")
    before = world.client.get("/api/me", headers=h).json()["user"]
    r = world.client.request(method, path, json=body, headers=h)
    assert r.status_code == 422 and error_code(r) == "validation_error", r.text
    assert world.client.get("/api/me", headers=h).json()["user"] == before
    assert {u.id for u in world.store.list_users()}.isdisjoint({"u1", "u2"})
    assert world.store.get_station("st-a").timezone is None


# --- assign, and other stations' ids --------------------------------------------------------


def test_assign_only_to_active_staff_of_the_alerts_station(world: World) -> None:
    h = world.as_user(STAFF_A)
    path = f"/api/alerts/{world.alerts['a']}/assign"
    answers = {}
    for who in ("station_staff.b", "nobody", FAM_A, "city_admin"):
        r = world.client.post(path, json={"assignee": who}, headers=h)
        assert r.status_code == 422 and error_code(r) == "unknown_assignee", who
        answers[who] = r.json()["error"]["details"]["reason"].replace(who, "*")
    assert len(set(answers.values())) == 1  # another station's user looks like nobody
    world.client.patch("/api/users/station_staff.a", json={"disabled": True},
                       headers=world.as_user(SUP_A))  # fmt: skip
    r = world.client.post(path, json={"assignee": STAFF_A}, headers=world.as_user(SUP_A))
    assert error_code(r) == "unknown_assignee"
    r = world.client.post(path, json={"assignee": SUP_A}, headers=world.as_user(SUP_A))
    assert r.status_code == 200 and r.json()["assigned_to"] == SUP_A


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/residents", {"id": "r-new", "station_id": "st-b", "name": "n"}),
        ("POST", "/api/users", {"id": "u-b", "name": "n", "role": "station_staff",
                                "scope_id": "st-b", "password": "long enough"}),
        ("POST", "/api/users", {"id": "f-b", "name": "n", "role": "family",
                                "resident_ids": ["r-b"], "password": "long enough"}),
        ("POST", "/api/silences", {"end": 2e9, "reason": "r", "station_id": "st-b"}),
        ("POST", "/api/silences", {"end": 2e9, "reason": "r", "device_id": "w-b"}),
        ("POST", "/api/devices", {"id": "w-new", "kind": "wearable", "resident_id": "r-b"}),
        ("PATCH", "/api/users/station_staff.b", {"name": "x"}),
        ("PATCH", "/api/users/family.a", {"resident_ids": ["r-a", "r-b"]}),
        ("POST", "/api/devices/import", {"station_id": "st-b", "csv": "id,kind\nx,wearable\n"}),
    ],
)  # fmt: skip
def test_other_stations_ids_are_not_found(
    world: World, method: str, path: str, body: dict[str, Any]
) -> None:
    r = world.client.request(method, path, json=body, headers=world.as_user(SUP_A))
    assert r.status_code == 404 and error_code(r) == "not_found", r.text


def test_a_conflict_names_nothing_of_other_stations(world: World) -> None:
    h = world.as_user(SUP_A)
    r = world.client.post("/api/residents", json={"id": "r-b", "station_id": "st-a", "name": "n"},
                          headers=h)  # fmt: skip
    assert r.status_code == 409 and error_code(r) == "conflict"
    assert "r-b" not in r.text and "st-b" not in r.text
    assert "UNIQUE" not in r.text and "constraint" not in r.text.lower()


# --- error bodies ---------------------------------------------------------------------------


def test_errors_speak_the_callers_language(world: World) -> None:
    h = world.as_user(STAFF_A)  # zh-CN, the default
    assert world.client.get("/api/residents/r-b", headers=h).json()["error"]["message"] == "未找到"
    world.client.patch("/api/me", json={"language": "en"}, headers=h)
    body = world.client.get("/api/residents/r-b", headers=h).json()["error"]
    assert (body["code"], body["message"]) == ("not_found", "Not found")
    anon = world.client.get("/api/me", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert anon.json()["error"]["message"] == "Not logged in or wrong password"
    assert world.client.get("/api/me").json()["error"]["message"] == "未登录或密码错误"


def test_validation_errors_carry_no_pydantic_text(world: World) -> None:
    h = world.as_user(SUP_A)
    r = world.client.post("/api/residents", json={"id": "x" * 65, "station_id": 5}, headers=h)
    assert r.status_code == 422
    text = r.text
    for internal in ("Input should", "pydantic", "errors.pydantic.dev", "String should"):
        assert internal not in text
    fields = {tuple(f["loc"]): f for f in r.json()["error"]["details"]}
    assert fields[("body", "id")]["type"] == "string_too_long"
    assert fields[("body", "id")]["limits"] == {"max_length": 64}
    assert fields[("body", "name")]["type"] == "missing"
    r = world.client.post("/api/residents", content=b"{not json", headers=h)
    assert r.status_code == 422 and "Expecting" not in r.text


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (StoreUnavailable("sqlite3.OperationalError: database is locked (carehub.db)"), 503,
         "unavailable"),
        (StoreError('psycopg.errors.UndefinedTable: relation "alerts" does not exist'), 500,
         "internal"),
    ],
)  # fmt: skip
def test_store_failures_say_nothing_of_the_driver(
    world: World, monkeypatch: pytest.MonkeyPatch, exc: Exception, status: int, code: str
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise exc

    monkeypatch.setattr(world.store, "get_alert", broken)
    r = world.client.get(f"/api/alerts/{world.alerts['a']}", headers=world.as_user(STAFF_A))
    assert r.status_code == status and error_code(r) == code
    for leak in ("sqlite3", "psycopg", "relation", "carehub.db", "locked"):
        assert leak not in r.text


# --- provisioning: resident and gateway checked together ------------------------------------


@pytest.fixture
def gateways(world: World) -> World:
    world.store.add_device(Device("gw-a", "gateway", resident_id="r-a", created_at=T0))
    world.store.add_device(Device("gw-b", "gateway", resident_id="r-b", created_at=T0))
    return world


def test_provisioning_checks_resident_and_gateway_together(gateways: World) -> None:
    w = gateways
    sup = w.as_user(SUP_A)
    # a resident of mine behind another station's gateway: the gateway is not found
    body = {"id": "s-1", "kind": "door", "resident_id": "r-a", "gateway_id": "gw-b"}
    r = w.client.post("/api/devices", json=body, headers=sup)
    assert r.status_code == 404 and error_code(r) == "not_found"
    body = {"id": "s-1", "kind": "door", "gateway_id": "gw-b"}
    assert w.client.post("/api/devices", json=body, headers=sup).status_code == 404
    # a district admin sees both stations, but one device is not in two of them
    body = {"id": "s-1", "kind": "door", "resident_id": "r-a", "gateway_id": "gw-b"}
    r = w.client.post("/api/devices", json=body, headers=w.as_user("district_admin.pd"))
    assert r.status_code == 422 and error_code(r) == "invalid_registry_input"
    assert w.client.get("/api/devices/s-1", headers=w.as_user("city_admin")).status_code == 404
    body = {"id": "s-1", "kind": "door", "resident_id": "r-a", "gateway_id": "gw-a"}
    assert w.client.post("/api/devices", json=body, headers=sup).status_code == 201


def test_device_import_names_only_gateways_of_the_station(gateways: World) -> None:
    w = gateways
    sup = w.as_user(SUP_A)
    reasons = {}
    for gw in ("gw-b", "gw-none"):
        csv = f"id,kind,gateway_id\ns-{gw},door,{gw}\n"
        r = w.client.post("/api/devices/import", json={"station_id": "st-a", "csv": csv},
                          headers=sup)  # fmt: skip
        assert r.status_code == 422 and error_code(r) == "invalid_registry_input"
        reasons[gw] = r.json()["error"]["details"]["reason"].replace(gw, "*")
    assert reasons["gw-b"] == reasons["gw-none"]  # another station's gateway looks like none
    csv = "id,kind,gateway_id\ns-ok,door,gw-a\n"
    r = w.client.post("/api/devices/import", json={"station_id": "st-a", "csv": csv}, headers=sup)
    assert r.status_code == 201
