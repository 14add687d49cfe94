"""The service KPIs through the whole path: an SOS sent to a worker in one click, checked in
and done through the API, rated by the family; the station's KPI row and its CSV show the
time to arrive, the order done on time and the rating."""

from __future__ import annotations

import csv
import io

from tests.dashboard.conftest import T0, World

STAFF, SUP, FAM = "station_staff.a", "station_supervisor.a", "family.a"


def _at(world: World, t: float, user: str, path: str, body: object = None) -> dict[str, object]:
    world.clock.t = T0 + t
    r = world.client.post(path, json=body, headers=world.as_user(user))
    assert r.status_code in (200, 201), r.text
    out: dict[str, object] = r.json()
    return out


def test_an_emergency_visit_and_its_rating_in_the_kpis(world: World) -> None:
    order = _at(world, 100, STAFF, f"/api/orders/from-alert/{world.alerts['a']}")
    oid = order["id"]
    _at(world, 160, SUP, f"/api/orders/{oid}/assign", {"worker_id": "cw-a"})
    _at(world, 200, STAFF, f"/api/orders/{oid}/accept")
    _at(world, 700, STAFF, f"/api/orders/{oid}/arrive", {"lat": 31.2, "lon": 121.5})
    _at(world, 1_300, STAFF, f"/api/orders/{oid}/done", {"notes": "血压正常"})
    r = world.client.put(f"/api/ratings/order/{oid}", json={"score": 4},
                         headers=world.as_user(FAM))  # fmt: skip
    assert r.status_code == 200, r.text
    # the order (45 min from T0 + 100, 30 min grace) fell due at T0 + 4,600
    world.clock.t = T0 + 5_000
    r = world.client.get("/api/kpi", headers=world.as_user(STAFF))
    assert r.status_code == 200, r.text
    [row] = r.json()["rows"]
    v = row["values"]
    assert (v["arrive.n"], v["arrive.p50_s"], v["arrive.p90_s"]) == (1, 700.0, 700.0)
    assert (v["orders.due"], v["orders.on_time"], v["orders.on_time_ratio"]) == (1, 1, 1.0)
    assert (v["rating.n"], v["rating.avg"]) == (1, 4.0)
    assert (v["visits.due"], v["visits.on_time_ratio"]) == (0, None)
    units = {c["key"]: c["unit"] for c in r.json()["columns"]}
    assert units["rating.avg"] == "score" and units["arrive.p50_s"] == "seconds"

    r = world.client.get("/api/kpi/csv", headers=world.as_user(STAFF))
    head, body = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    col = dict(zip(head, body, strict=True))
    assert (col["到达用时中位数 (秒)"], col["工单按时完成率 (%)"], col["平均评分 (1–5 分)"]) == (
        "700.0", "100.0", "4.00")  # fmt: skip
    assert (col["评价数"], col["探访按期完成率 (%)"]) == ("1", "")
