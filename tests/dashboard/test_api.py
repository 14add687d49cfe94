"""The REST API's behaviour: one error shape, pagination and filters, alert commands with
outcomes and timelines, vitals downsampling, provisioning credentials shown once, CSV
import, silences, users, preferences, the OpenAPI document and ``carehub user add``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from carehub.cli_users import user_app
from hub.store.base import DeviceState, IngestBatch, TelemetryRow
from hub.store.sqlite import SqliteStore
from tests.dashboard.conftest import T0, World, error_code


def test_errors_share_one_shape(world: World) -> None:
    h = world.as_user("city_admin")
    assert error_code(world.client.get("/api/residents/nobody", headers=h)) == "not_found"
    r = world.client.get("/api/alerts?limit=0", headers=h)
    assert r.status_code == 422 and error_code(r) == "validation_error"
    assert r.json()["error"]["details"][0]["loc"] == ["query", "limit"]
    r = world.client.post(f"/api/alerts/{world.alerts['a']}/resolve", json={"outcome": "bogus"},
                          headers=h)  # fmt: skip
    assert error_code(r) == "validation_error"
    assert error_code(world.client.get("/api/nothing-here", headers=h)) == "not_found"
    r = world.client.post("/api/residents", json={"id": "r-a", "station_id": "st-a", "name": "x"},
                          headers=h)  # fmt: skip
    assert r.status_code == 409 and error_code(r) == "conflict"


def test_alert_lifecycle_and_timeline(world: World) -> None:
    h = world.as_user("station_staff.a")
    alert = world.alerts["a"]
    c = world.client
    r = c.post(f"/api/alerts/{alert}/assign", json={"assignee": "station_supervisor.a"},
               headers=h)  # fmt: skip
    assert r.json()["assigned_to"] == "station_supervisor.a"
    r = c.post(f"/api/alerts/{alert}/resolve", json={"outcome": "false_alarm", "note": "ok"},
               headers=h)  # fmt: skip
    assert (r.json()["state"], r.json()["outcome"]) == ("resolved", "false_alarm")
    r = c.post(f"/api/alerts/{alert}/resolve", json={"outcome": "test"}, headers=h)
    assert r.status_code == 409 and error_code(r) == "invalid_transition"
    fam = world.as_user("family.a")
    assert c.post(f"/api/alerts/{alert}/going", headers=fam).status_code == 201
    actions = [t["action"] for t in c.get(f"/api/alerts/{alert}/timeline", headers=h).json()]
    assert actions[0] == "opened" and actions[-2:] == ["resolved", "going_over"]
    assert "assigned" in actions
    res_tl = c.get("/api/residents/r-a/timeline", headers=fam).json()
    assert {t["alert_id"] for t in res_tl} == {alert}


def test_alert_filters_order_and_pages(world: World) -> None:
    h = world.as_user("city_admin")
    c = world.client
    c.post(f"/api/alerts/{world.alerts['b']}/acknowledge", json={}, headers=h)
    page = c.get("/api/alerts?limit=1", headers=h).json()
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    rest = c.get("/api/alerts?limit=1&offset=1", headers=h).json()
    assert rest["next_offset"] is None
    ids = {page["items"][0]["id"], rest["items"][0]["id"]}
    assert ids == set(world.alerts.values())
    only_open = c.get("/api/alerts?state=open", headers=h).json()["items"]
    assert [a["id"] for a in only_open] == [world.alerts["a"]]
    assert (
        c.get("/api/alerts?station_id=st-b", headers=h).json()["items"][0]["station_id"] == "st-b"
    )
    assert c.get("/api/alerts?priority=low", headers=h).json()["items"] == []


def test_vitals_are_downsampled(world: World) -> None:
    rows = [TelemetryRow("w-a", i, T0 - 3600 + 30 * i, T0, {"hr": 60.0 + i % 5, "battery": 50})
            for i in range(100)]  # fmt: skip
    world.store.write_batch(IngestBatch(telemetry=rows))
    h = world.as_user("family.a")
    body = world.client.get("/api/residents/r-a/vitals?window=24h", headers=h).json()
    assert body["bucket_s"] == 300
    points = body["series"]["w-a"]
    assert sum(p["n"] for p in points) == 100 and len(points) <= 288
    assert all(p["hr"][1] <= p["hr"][0] <= p["hr"][2] for p in points)
    tile = world.client.get("/api/residents/r-a", headers=h).json()
    assert tile["vitals"]["hr"] == 60.0 + 99 % 5 and tile["devices"][0]["battery"] == 50
    assert tile["map_url"].startswith("https://") and tile["contacts"][0]["relation"]


def test_provisioning_shows_credentials_once_and_csv_import(world: World) -> None:
    h = world.as_user("station_supervisor.a")
    c = world.client
    r = c.post("/api/devices", json={"id": "gw-a", "kind": "gateway", "resident_id": "r-a"},
               headers=h)  # fmt: skip
    creds = r.json()["credentials"]
    assert r.status_code == 201 and len(creds["password"]) >= 24
    detail = c.get("/api/devices/gw-a", headers=h).json()
    assert creds["password"] not in str(detail)
    csv = "id,kind,resident_id\nw-a2,wearable,r-a\nw-a3,wearable,r-nope\n"
    r = c.post("/api/devices/import", json={"station_id": "st-a", "csv": csv}, headers=h)
    assert r.status_code == 422 and "line 3" in r.json()["error"]["details"]["reason"]
    r = c.post("/api/residents/import", json={"station_id": "st-a", "csv": "id,name\nr-a9,n\n"},
               headers=h)  # fmt: skip
    assert r.json() == {"imported": 1, "ids": ["r-a9"]}


def test_silences_and_users(world: World) -> None:
    h = world.as_user("station_supervisor.a")
    c = world.client
    r = c.post("/api/silences", json={"end": T0 + 3600, "reason": "drill", "resident_id": "r-a"},
               headers=h)  # fmt: skip
    sid = r.json()["id"]
    assert [s["id"] for s in c.get("/api/silences", headers=h).json()] == [sid]
    assert c.get("/api/silences", headers=world.as_user("station_staff.b")).json() == []
    r = c.post("/api/silences", json={"end": T0 + 60, "reason": "x", "kind": "sos"}, headers=h)
    assert r.status_code == 403  # a kind-wide silence would mute every station
    assert c.delete(f"/api/silences/{sid}", headers=h).status_code == 200
    r = c.post("/api/users", json={"id": "fam2", "name": "n", "role": "family",
                                   "resident_ids": ["r-b"], "password": "long enough"},
               headers=h)  # fmt: skip
    assert r.status_code == 404  # another station's resident: as if there were none
    r = c.post("/api/users", json={"id": "fam2", "name": "n", "role": "family",
                                   "resident_ids": ["r-a"], "password": "long enough"},
               headers=h)  # fmt: skip
    assert r.status_code == 201 and "password" not in r.text


def test_preferences(world: World) -> None:
    h = world.as_user("family.a")
    body = {"language": "en", "timezone": "Europe/Paris",
            "prefs": {"min_priority": "high", "quiet_hours": ["22:00", "07:00"]}}  # fmt: skip
    r = world.client.patch("/api/me", json=body, headers=h)
    assert r.json()["prefs"]["quiet_hours"] == ["22:00", "07:00"]
    assert world.store.get_user("family.a").timezone == "Europe/Paris"
    for bad in ({"timezone": "Mars/Base"}, {"language": "fr"},
                {"prefs": {"quiet_hours": ["25:00", "07:00"]}}):  # fmt: skip
        assert world.client.patch("/api/me", json=bad, headers=h).status_code == 422


def test_station_time_zones_are_checked(world: World) -> None:
    c, h = world.client, world.as_user("city_admin")
    body = {"id": "st-new", "district_id": "pd", "name": "新站"}
    bad = c.post("/api/stations", json=body | {"timezone": "Mars/Base"}, headers=h)
    assert bad.status_code == 422 and "unknown time zone 'Mars/Base'" in bad.text
    made = c.post("/api/stations", json=body, headers=h).json()
    assert made["timezone"] is None  # the hub's default applies
    r = c.patch("/api/stations/st-new", json={"timezone": "Asia/Urumqi"}, headers=h)
    assert r.status_code == 200 and r.json()["timezone"] == "Asia/Urumqi"
    assert world.store.get_station("st-new").timezone == "Asia/Urumqi"
    r = c.patch("/api/stations/st-new", json={"timezone": "Asia/Nowhere"}, headers=h)
    assert r.status_code == 422 and "unknown time zone" in r.text
    r = c.patch("/api/stations/st-new", json={"timezone": None, "name": "新站二"}, headers=h)
    assert (r.json()["timezone"], r.json()["name"]) == (None, "新站二")
    assert c.patch("/api/stations/st-none", json={}, headers=h).status_code == 404
    # a user created without a zone gets the hub's default
    r = c.post("/api/users", json={"id": "staff.new", "name": "n", "role": "station_staff",
                                   "scope_id": "st-new", "password": "long enough pw"},
               headers=h)  # fmt: skip
    assert r.json()["timezone"] == world.hub.settings.default_timezone


def test_openapi_documents_the_error_body(world: World) -> None:
    doc = world.client.get("/openapi.json").json()
    op = doc["paths"]["/api/alerts/{alert_id}/resolve"]["post"]
    assert op["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )


def test_cli_user_add_creates_the_first_admin(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    r = runner.invoke(user_app, ["add", "admin", "--password", "a long password", "--db", db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(user_app, ["add", "admin", "--password", "a long password", "--db", db])
    assert r.exit_code == 1
    r = runner.invoke(user_app, ["add", "x", "--role", "family", "--password", "p" * 9, "--db", db])
    assert r.exit_code == 2
    r = runner.invoke(user_app, ["add", "y", "--password", "short", "--db", db])
    assert r.exit_code == 1
    store = SqliteStore(tmp_path / "c.db")
    try:
        assert store.get_user("admin").role == "city_admin"
    finally:
        store.close()


def test_device_detail_and_list_report_telemetry_gaps(world: World) -> None:
    h = world.as_user("station_supervisor.a")
    assert world.client.get("/api/devices/w-a", headers=h).json()["telemetry_gaps"] == 0
    state = DeviceState("w-a", last_seen_at=T0, last_seq=40, telemetry_gaps=6)
    world.store.write_batch(IngestBatch(seen=[state]))
    detail = world.client.get("/api/devices/w-a", headers=h).json()
    assert detail["telemetry_gaps"] == 6
    listed = world.client.get("/api/devices", headers=h).json()["items"]
    assert [(d["id"], d["telemetry_gaps"]) for d in listed] == [("w-a", 6)]
