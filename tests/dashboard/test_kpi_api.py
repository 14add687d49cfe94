"""The KPI API and its CSV: who sees which station, district or city; figures through the
whole path (an SOS acknowledged and resolved through the API); the CSV's bytes."""

from __future__ import annotations

import csv
import io

import pytest

from tests.dashboard.conftest import T0, World, error_code

STAFF_A, SUP_B, FAM_A = "station_staff.a", "station_supervisor.b", "family.a"
DIST, DIST_X, CITY, VENDOR = "district_admin.pd", "district_admin.xh", "city_admin", "vendor.acme"


@pytest.fixture
def handled(world: World) -> World:
    """Station A's SOS acknowledged after 30 s and resolved as a false alarm after 90 s."""
    alert = world.alerts["a"]
    world.clock.t = T0 + 30.0
    r = world.client.post(f"/api/alerts/{alert}/acknowledge", json={},
                          headers=world.as_user(STAFF_A))  # fmt: skip
    assert r.status_code == 200, r.text
    world.clock.t = T0 + 90.0
    r = world.client.post(f"/api/alerts/{alert}/resolve", json={"outcome": "false_alarm"},
                          headers=world.as_user(STAFF_A))  # fmt: skip
    assert r.status_code == 200, r.text
    world.clock.t = T0 + 3600.0
    return world


def _get(world: World, user: str, **params: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = world.client.get("/api/kpi", params=params, headers=world.as_user(user))
    return r.status_code, r.json()


def test_station_staff_see_their_station_with_its_figures(handled: World) -> None:
    status, body = _get(handled, STAFF_A)
    assert status == 200
    assert (body["level"], body["id"], body["timezone"]) == ("station", "st-a", "Asia/Shanghai")
    [row] = body["rows"]
    assert row["id"] == "st-a" and row["kind"] == "station"
    v = row["values"]
    assert (v["alarms.total"], v["alarms.sos"], v["ack.n"]) == (1, 1, 1)
    assert (v["ack.p50_s"], v["resolve.p90_s"], v["false_alarm.ratio"]) == (30.0, 90.0, 1.0)
    assert v["outcome.false_alarm"] == 1
    # the period: the last 30 days in the station's zone, measured up to now
    assert (body["from"], body["to"]) == ("2025-12-03", "2026-01-01")
    assert body["measured_end"] == T0 + 3600.0
    keys = [c["key"] for c in body["columns"]]
    assert keys[:2] == ["alarms.total", "alarms.sos"] and "uptime.ratio" in keys


def test_station_staff_see_no_other_station_and_no_district(handled: World) -> None:
    assert _get(handled, STAFF_A, level="station", id="st-b")[0] == 404
    assert _get(handled, STAFF_A, level="district", id="pd")[0] == 403
    assert _get(handled, STAFF_A, level="city", id="sh")[0] == 403
    for user in (FAM_A, VENDOR):
        assert _get(handled, user)[0] == 403


def test_a_district_admin_sees_their_stations_side_by_side_with_a_total(handled: World) -> None:
    status, body = _get(handled, DIST)
    assert status == 200 and (body["level"], body["id"]) == ("district", "pd")
    rows = {(r["id"], r["kind"]): r["values"] for r in body["rows"]}
    assert list(rows) == [("st-a", "station"), ("st-b", "station"), ("pd", "total")]
    assert [v["alarms.total"] for v in rows.values()] == [1, 1, 2]
    assert rows["st-b", "station"]["ack.p50_s"] is None  # nobody acknowledged B's yet
    assert rows["pd", "total"]["false_alarm.ratio"] == 1.0
    assert _get(handled, DIST, level="station", id="st-b")[0] == 200
    assert _get(handled, DIST, level="station", id="st-x")[0] == 404
    assert _get(handled, DIST, level="district", id="xh")[0] == 404
    assert _get(handled, DIST, level="city", id="sh")[0] == 403
    assert _get(handled, DIST_X)[1]["rows"][-1]["values"]["alarms.total"] == 0


def test_a_city_admin_sees_districts_and_drills_down(handled: World) -> None:
    status, body = _get(handled, CITY)
    assert status == 200 and (body["level"], body["id"], body["name"]) == ("city", "sh", "上海市")
    got = [(r["id"], r["kind"], r["values"]["alarms.total"]) for r in body["rows"]]
    assert got == [("pd", "district", 2), ("xh", "district", 0), ("sh", "total", 2)]
    _, pd = _get(handled, CITY, level="district", id="pd")
    assert [r["id"] for r in pd["rows"]] == ["st-a", "st-b", "pd"]
    assert _get(handled, CITY, level="city", id="nowhere")[0] == 404


def test_period_picker_and_bad_periods(handled: World) -> None:
    _, before = _get(handled, STAFF_A, **{"from": "2025-12-01", "to": "2025-12-31"})
    assert before["rows"][0]["values"]["alarms.total"] == 0  # the SOS came on 1 January
    r = handled.client.get("/api/kpi", params={"from": "2026-02-01", "to": "2026-01-01"},
                           headers=handled.as_user(STAFF_A))  # fmt: skip
    assert r.status_code == 422 and error_code(r) == "invalid_period"
    assert "before it starts" in r.json()["error"]["details"]["reason"]
    assert r.json()["error"]["message"] == "时间段无效"  # the user's language (zh-CN)
    r = handled.client.get("/api/kpi", params={"from": "1 Jan"}, headers=handled.as_user(STAFF_A))
    assert r.status_code == 422 and error_code(r) == "invalid_period"


def test_csv_is_utf8_with_bom_localized_headers_and_chinese_names(handled: World) -> None:
    r = handled.client.get("/api/kpi/csv", headers=handled.as_user(CITY),
                           params={"level": "district", "id": "pd"})  # fmt: skip
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="kpi-district-')
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    head, *body = rows
    assert head[:3] == ["编号", "名称", "行类型"]
    assert "告警: 紧急求助" in head
    assert "确认用时中位数 (秒)" in head and "误报率 (%)" in head
    assert [row[:3] for row in body] == [
        ["st-a", "花木养老服务站", "服务站"], ["st-b", "金杨养老服务站", "服务站"],
        ["pd", "浦东新区", "合计"],
    ]  # fmt: skip
    col = dict(zip(head, body[0], strict=True))
    assert (col["确认用时中位数 (秒)"], col["误报率 (%)"], col["告警总数"]) == (
        "30.0",
        "100.0",
        "1",
    )
    assert dict(zip(head, body[1], strict=True))["确认用时中位数 (秒)"] == ""  # no data


def test_csv_headers_follow_the_callers_language(handled: World) -> None:
    handled.client.patch("/api/me", json={"language": "en"}, headers=handled.as_user(STAFF_A))
    r = handled.client.get("/api/kpi/csv", headers=handled.as_user(STAFF_A))
    head = next(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert head[:4] == ["Id", "Name", "Row", "Alarms"]
    assert "Time to acknowledge, median (s)" in head and "Alarms: SOS" in head


def test_a_level_without_an_id_is_refused(handled: World) -> None:
    r = handled.client.get("/api/kpi", params={"level": "district"}, headers=handled.as_user(DIST))
    assert r.status_code == 422 and error_code(r) == "validation_error"
    assert r.json()["error"]["details"][0]["loc"] == ["query", "id"]
