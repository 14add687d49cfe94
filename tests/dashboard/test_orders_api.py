"""Orders over the API: the whole lifecycle with its audit trail and live pushes, the
check-in radius, illegal transitions, the one-click emergency visit (idempotent per alert),
dispatch overrides refused for an unskilled or double-booked worker unless forced, and the
catalogue's and workers' input checks."""

from __future__ import annotations

from typing import Any

from hub.store.base import CareWorker
from tests.dashboard.conftest import EVERY_DAY, T0, World, error_code

SUP, STAFF = "station_supervisor.a", "station_staff.a"
HOME = {"lat": 31.2, "lon": 121.5}
FAR = {"lat": 31.21, "lon": 121.5}  # about 1.1 km north of the home


def post(world: World, user: str, path: str, body: Any = None) -> Any:
    return world.client.post(path, json=body, headers=world.as_user(user))


def test_order_lifecycle_check_in_and_live_pushes(world: World) -> None:
    c = world.client
    with c.websocket_connect("/ws", headers=world.as_user(SUP)) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        r = post(
            world,
            STAFF,
            "/api/orders",
            {"service_id": "sv-a", "resident_id": "r-a", "scheduled_at": T0 + 7200},
        )
        assert r.status_code == 201, r.text
        order = r.json()
        oid = order["id"]
        assert (order["status"], order["price_cents"], order["subsidy_cents"]) == (
            "open",
            1500,
            1000,
        )
        assert order["resident"]["address"] == "花木路 1 号"
        pushed = ws.receive_json()
        assert (pushed["type"], pushed["order"]["id"], pushed["order"]["status"]) == (
            "order",
            oid,
            "open",
        )

        prop = c.get(f"/api/orders/{oid}/proposal", headers=world.as_user(SUP)).json()
        assert prop["proposal"]["worker_id"] == "cw-a"
        assert prop["proposal"]["worker_name"] == "护理员a"
        r = post(world, SUP, f"/api/orders/{oid}/assign", {})
        assert (r.status_code, r.json()["worker_id"], r.json()["status"]) == (
            200,
            "cw-a",
            "assigned",
        )
        assert ws.receive_json()["order"]["status"] == "assigned"

        # only the assigned worker's user may act; steps out of order are refused
        assert post(world, SUP, f"/api/orders/{oid}/accept").status_code == 403
        r = post(world, STAFF, f"/api/orders/{oid}/arrive", HOME)
        assert (r.status_code, error_code(r)) == (409, "invalid_transition")
        assert post(world, STAFF, f"/api/orders/{oid}/accept").json()["status"] == "accepted"
        assert ws.receive_json()["order"]["status"] == "accepted"

        far = post(world, STAFF, f"/api/orders/{oid}/arrive", FAR)
        assert (far.status_code, error_code(far)) == (422, "too_far")
        assert far.json()["error"]["message"] == "距离老人住址太远，无法签到"  # the user's language
        assert 1000 < far.json()["error"]["details"]["distance_m"] < 1300
        assert (
            c.get(f"/api/orders/{oid}", headers=world.as_user(SUP)).json()["status"] == "accepted"
        )

        near = {"lat": 31.2005, "lon": 121.5}  # about 55 m away
        r = post(world, STAFF, f"/api/orders/{oid}/arrive", near)
        assert r.json()["status"] == "arrived"
        assert ws.receive_json()["order"]["status"] == "arrived"
        r = post(world, STAFF, f"/api/orders/{oid}/done", {"notes": "饭菜已送到，老人精神好"})
        assert (r.json()["status"], r.json()["notes"]) == ("done", "饭菜已送到，老人精神好")
        assert ws.receive_json()["order"]["status"] == "done"

    r = post(world, SUP, f"/api/orders/{oid}/cancel", {"reason": "too late"})
    assert (r.status_code, error_code(r)) == (409, "invalid_transition")
    got = c.get(f"/api/orders/{oid}", headers=world.as_user(SUP)).json()
    steps = [(e["from_status"], e["to_status"], e["actor"]) for e in got["events"]]
    assert steps == [
        (None, "open", f"user:{STAFF}"),
        ("open", "assigned", f"user:{SUP}"),
        ("assigned", "accepted", f"user:{STAFF}"),
        ("accepted", "arrived", f"user:{STAFF}"),
        ("arrived", "done", f"user:{STAFF}"),
    ]
    arrived = got["events"][3]
    assert (arrived["lat"], arrived["lon"], arrived["worker_id"]) == (31.2005, 121.5, "cw-a")
    assert 40 < arrived["detail"]["distance_m"] < 70
    assert got["events"][1]["detail"]["proposed"] is True
    # the check-in moved the worker's known position
    assert world.store.get_worker("cw-a").lat == 31.2005


def test_emergency_visit_is_one_click_and_idempotent(world: World) -> None:
    alert = world.alerts["a"]
    r = post(world, STAFF, f"/api/orders/from-alert/{alert}")
    assert r.status_code == 201, r.text
    o = r.json()
    assert (o["kind"], o["resident_id"], o["alert_id"], o["status"], o["scheduled_at"]) == (
        "emergency_visit",
        "r-a",
        alert,
        "open",
        T0,
    )
    again = post(world, SUP, f"/api/orders/from-alert/{alert}")
    assert (again.status_code, again.json()["id"]) == (200, o["id"])
    assert post(world, "station_staff.b", f"/api/orders/from-alert/{alert}").status_code == 404
    assert len(world.store.list_orders(station_ids=["st-a"], statuses=["open"])) == 1
    # the nearest free worker is proposed and confirmed; it fits before their meal round
    r = post(world, SUP, f"/api/orders/{o['id']}/assign", {})
    assert (r.status_code, r.json()["worker_id"]) == (200, "cw-a")
    # a station without an emergency service says so
    world.store.update_service(
        world.store.get_service("sv-eb").__class__(
            "sv-eb", "st-b", "emergency_visit", "x", 45, 0, active=False, created_at=T0
        )
    )
    r = post(world, "station_staff.b", f"/api/orders/from-alert/{world.alerts['b']}")
    assert (r.status_code, error_code(r)) == (409, "no_emergency_service")


def test_overrides_are_checked_and_recorded(world: World) -> None:
    world.store.add_worker(
        CareWorker(
            "cw-a2",
            "st-a",
            "新人",
            None,
            None,
            ("cleaning",),
            EVERY_DAY,
            31.2,
            121.5,
            T0,
            created_at=T0,
        )
    )
    # cw-a2 lacks the "food" skill the meal delivery needs
    r = post(world, SUP, "/api/orders/ord-a/assign", {"worker_id": "cw-a2"})
    assert (r.status_code, error_code(r)) == (409, "worker_unavailable")
    assert r.json()["error"]["details"]["why"] == "skills"
    r = post(world, SUP, "/api/orders/ord-a/assign", {"worker_id": "cw-a2", "force": True})
    assert (r.status_code, r.json()["worker_id"]) == (200, "cw-a2")
    step = world.store.order_events("ord-a")[-1]
    assert (step.actor, step.detail) == (
        f"user:{SUP}",
        {"override": True, "forced": True, "check": "skills"},
    )
    # back to cw-a; a second meal at the same time cannot go to cw-a too (double booking)
    assert post(world, SUP, "/api/orders/ord-a/assign", {"worker_id": "cw-a"}).status_code == 200
    second = post(
        world,
        STAFF,
        "/api/orders",
        {"service_id": "sv-a", "resident_id": "r-a", "scheduled_at": T0 + 3600},
    ).json()
    r = post(world, SUP, f"/api/orders/{second['id']}/assign", {"worker_id": "cw-a"})
    assert (r.status_code, r.json()["error"]["details"]["why"]) == (409, "busy")
    r = post(world, SUP, f"/api/orders/{second['id']}/assign", {})
    assert (r.status_code, error_code(r)) == (409, "no_worker")
    prop = world.client.get(f"/api/orders/{second['id']}/proposal", headers=world.as_user(SUP))
    assert prop.json()["proposal"] is None
    # another station's worker is not found, whatever the force
    r = post(world, SUP, f"/api/orders/{second['id']}/assign", {"worker_id": "cw-b", "force": True})
    assert r.status_code == 404


def test_catalogue_and_worker_input_checks(world: World) -> None:
    good = {
        "id": "sv-bath",
        "station_id": "st-a",
        "kind": "bathing",
        "name": "助浴",
        "duration_min": 60,
        "price_cents": 8000,
        "subsidy_cents": 5000,
        "skills": ["bathing"],
    }
    assert post(world, SUP, "/api/services", good).status_code == 201
    for bad in (
        {"price_cents": -1},
        {"price_cents": 12.5},
        {"kind": "massage"},
        {"duration_min": 0},
        {"station_id": "st-b"},
    ):
        r = post(world, SUP, "/api/services", good | {"id": "sv-x"} | bad)
        assert r.status_code in (404, 422), (bad, r.text)
    assert world.store.get_service("sv-bath").price_cents == 8000
    r = world.client.patch(
        "/api/services/sv-bath", json={"subsidy_cents": 6000}, headers=world.as_user(SUP)
    )
    assert r.json()["subsidy_cents"] == 6000
    listed = world.client.get("/api/services", headers=world.as_user(STAFF)).json()
    assert {s["id"] for s in listed} == {"sv-a", "sv-ea", "sv-bath"}

    worker = {
        "id": "cw-new",
        "station_id": "st-a",
        "name": "王芳",
        "skills": ["bathing"],
        "hours": {"0": [["08:00", "17:00"]]},
    }
    r = post(world, SUP, "/api/workers", worker | {"hours": {"0": [["8", "17:00"]]}})
    assert (r.status_code, r.json()["error"]["details"][0]["loc"]) == (422, ["body", "hours"])
    r = post(world, SUP, "/api/workers", worker | {"user_id": "station_staff.b"})
    assert (r.status_code, r.json()["error"]["details"][0]["loc"]) == (422, ["body", "user_id"])
    assert post(world, SUP, "/api/workers", worker).status_code == 201

    put = world.client.put
    r = put(
        "/api/workers/cw-a/position",
        json={"lat": 31.25, "lon": 121.45},
        headers=world.as_user(STAFF),
    )
    assert r.json() == {"ok": True, "kept": True}
    assert world.store.get_worker("cw-a").lat == 31.25
    r = put(
        "/api/workers/cw-a/position",
        json={"lat": 31.0, "lon": 121.0, "at": T0 - 60},
        headers=world.as_user(STAFF),
    )
    assert r.json() == {"ok": True, "kept": False}  # older than what is known
    r = put(
        "/api/workers/cw-a/position",
        json={"lat": 31.0, "lon": 121.0, "at": T0 + 3600},
        headers=world.as_user(STAFF),
    )
    assert r.status_code == 422
    day = world.client.get("/api/workers/me", headers=world.as_user(STAFF)).json()
    assert (day["id"], [o["id"] for o in day["orders"]]) == ("cw-a", ["ord-a"])


def test_only_the_worker_page_may_ask_for_the_position(world: World) -> None:
    worker = world.client.get("/static/worker.html").headers["permissions-policy"]
    console = world.client.get("/static/index.html").headers["permissions-policy"]
    assert "geolocation=(self)" in worker
    assert "geolocation=()" in console


def test_a_station_s_open_orders_are_proposed_as_one_batch(world: World) -> None:
    world.store.add_worker(CareWorker("cw-a2", "st-a", "王芳", None, None, ("food",), EVERY_DAY,
                                      31.21, 121.5, T0, created_at=T0))  # fmt: skip
    made = [
        post(world, STAFF, "/api/orders",
             {"service_id": "sv-a", "resident_id": "r-a", "scheduled_at": T0 + 9000}).json()["id"]
        for _ in range(3)
    ]  # fmt: skip
    r = post(world, SUP, "/api/orders/propose", {"station_id": "st-a"})
    got = r.json()["proposals"]
    assert set(got) == set(made)
    chosen = [got[m]["worker_id"] for m in made if got[m]]
    assert sorted(chosen) == ["cw-a", "cw-a2"]  # two workers for three simultaneous visits
    assert [m for m in made if got[m] is None] != []
    assert (
        post(world, "station_staff.b", "/api/orders/propose", {"station_id": "st-a"}).status_code
        == 404
    )
