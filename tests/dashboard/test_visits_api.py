"""The visits API: plans make tasks, staff record visits (validated), an overdue visit is a
medium alert on the console that recording resolves, discharges make follow-ups, families
rate completed visits (validated, editable for a week)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.dashboard.conftest import World, error_code

SUP, STAFF, FAM = "station_supervisor.a", "station_staff.a", "family.a"
GOOD = {"mood": "good", "mobility": "walks_with_aid", "living": "adequate"}
SH = ZoneInfo("Asia/Shanghai")


def local_day(world: World, days: float = 0) -> str:
    return datetime.fromtimestamp(world.clock() + days * 86_400, SH).date().isoformat()


def plan(world: World, resident: str = "r-a", **body: object) -> dict[str, object]:
    body = {"cadence": "weekly", "window_days": 1, **body}
    who = SUP if resident == "r-a" else "district_admin.pd"
    r = world.client.put(f"/api/residents/{resident}/visit-plan", json=body,
                         headers=world.as_user(who))  # fmt: skip
    assert r.status_code == 200, r.text
    out: dict[str, object] = r.json()
    return out


def visits(world: World, user: str, **query: str) -> list[dict[str, object]]:
    r = world.client.get("/api/visits", params=query, headers=world.as_user(user))
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_plan_makes_tasks_each_station_sees_its_own(world: World) -> None:
    got = plan(world, living_alone=True, cadence="by_risk", weekday=None)
    assert got["period"] == "weekly"
    assert got["profile"]["living_alone"] is True  # type: ignore[index]
    plan(world, "r-b", cadence="monthly")
    mine = visits(world, STAFF)
    assert {v["resident_id"] for v in mine} == {"r-a"} and len(mine) == 2
    assert mine[0]["resident_name"] == "居民a" and mine[0]["kind"] == "visit"
    assert {v["resident_id"] for v in visits(world, "station_staff.b")} == {"r-b"}
    assert {v["resident_id"] for v in visits(world, FAM)} == {"r-a"}
    r = world.client.get("/api/visits", params={"resident_id": "r-b"}, headers=world.as_user(FAM))
    assert r.status_code == 404
    r = world.client.put("/api/residents/r-a/visit-plan", json={"cadence": "daily"},
                         headers=world.as_user(SUP))  # fmt: skip
    assert (r.status_code, error_code(r)) == (422, "validation_error")
    r = world.client.put("/api/residents/r-a/visit-plan", json={"cadence": "weekly"},
                         headers=world.as_user(STAFF))  # fmt: skip
    assert r.status_code == 403


def test_recording_validates_and_completes_once(world: World) -> None:
    plan(world)
    task = visits(world, STAFF)[0]["id"]
    url = f"/api/visits/{task}/record"
    bad = [
        {**GOOD, "mood": "ecstatic"},
        {**GOOD, "needs": ["meals", "a pony"]},
        {**GOOD, "notes": "x" * 2001},
        {**GOOD, "notes": "nul\u0000"},
        {**GOOD, "photo_ref": "has space"},
        {**GOOD, "visited_at": world.clock() + 3600},
        {"mood": "good"},
    ]
    for body in bad:
        r = world.client.post(url, json=body, headers=world.as_user(STAFF))
        assert (r.status_code, error_code(r)) == (422, "validation_error"), body
    assert visits(world, STAFF, state="open")[0]["id"] == task  # nothing was recorded
    body = {**GOOD, "needs": ["meals", "repair", "meals"], "notes": "屋顶漏水，已报修",
            "photo_ref": "station-photos/2026/a1.jpg"}  # fmt: skip
    r = world.client.post(url, json=body, headers=world.as_user(STAFF))
    assert r.status_code == 201, r.text
    done = r.json()
    assert done["state"] == "done"
    assert done["record"]["needs"] == ["meals", "repair"]
    assert (done["record"]["visitor"], done["record"]["notes"]) == (STAFF, "屋顶漏水，已报修")
    r = world.client.post(url, json=GOOD, headers=world.as_user(STAFF))
    assert (r.status_code, error_code(r)) == (409, "visit_recorded")
    r = world.client.post(url, json=GOOD, headers=world.as_user("station_staff.b"))
    assert r.status_code == 404


def test_overdue_visit_is_a_medium_alert_resolved_by_recording(world: World) -> None:
    plan(world, window_days=0, starts_on=local_day(world, -10))
    world.client.portal.call(world.hub.visits.step)  # type: ignore[union-attr]
    overdue = visits(world, STAFF, state="overdue")
    assert overdue and all(v["alerted_at"] is not None for v in overdue)
    r = world.client.get("/api/alerts", params={"resident_id": "r-a"},
                         headers=world.as_user(STAFF))  # fmt: skip
    [alert] = [a for a in r.json()["items"] if a["kind"] == "visit_overdue"]
    assert (alert["priority"], alert["state"], alert["station_id"]) == ("medium", "open", "st-a")
    for v in overdue:
        r = world.client.post(f"/api/visits/{v['id']}/record", json=GOOD,
                              headers=world.as_user(STAFF))  # fmt: skip
        assert r.status_code == 201
    r = world.client.get(f"/api/alerts/{alert['id']}", headers=world.as_user(STAFF))
    assert (r.json()["state"], r.json()["outcome"]) == ("resolved", "self_cleared")
    assert visits(world, STAFF, state="overdue") == []


def test_discharge_makes_a_followup(world: World) -> None:
    body = {"within_days": 2, "note": "髋部手术"}
    r = world.client.post("/api/residents/r-a/discharges", json=body,
                          headers=world.as_user(STAFF))  # fmt: skip
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["kind"], t["origin"], t["due_on"]) == ("followup", "discharge", local_day(world, 2))
    again = world.client.post("/api/residents/r-a/discharges", json={"within_days": 2},
                              headers=world.as_user(STAFF))  # fmt: skip
    assert again.json()["id"] == t["id"]  # one follow-up a discharge day
    assert [v["id"] for v in visits(world, FAM, kind="followup")] == [t["id"]]
    r = world.client.post("/api/residents/r-a/discharges", json={"within_days": 99},
                          headers=world.as_user(STAFF))  # fmt: skip
    assert r.status_code == 422
    r = world.client.post("/api/residents/r-a/discharges", json={}, headers=world.as_user(FAM))
    assert r.status_code == 403


def test_family_rates_a_done_visit_within_the_window(world: World) -> None:
    plan(world)
    [first, second] = [v["id"] for v in visits(world, STAFF)]
    world.client.post(f"/api/visits/{first}/record", json=GOOD, headers=world.as_user(STAFF))
    url = f"/api/ratings/visit/{first}"
    for body in ({"score": 0}, {"score": 6}, {"score": 4.5}, {"score": "five"},
                 {"score": 4, "comment": "好" * 501}, {}):  # fmt: skip
        r = world.client.put(url, json=body, headers=world.as_user(FAM))
        assert (r.status_code, error_code(r)) == (422, "validation_error"), body
    r = world.client.put(url, json={"score": 5, "comment": "小张很耐心"},
                         headers=world.as_user(FAM))  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["score"], r.json()["station_id"], r.json()["rater"]) == (5, "st-a", FAM)
    world.clock.t += 86_400
    r = world.client.put(url, json={"score": 4}, headers=world.as_user(FAM))
    assert (r.json()["score"], r.json()["comment"]) == (4, "")
    [mine] = visits(world, FAM, state="done")
    assert [x["score"] for x in mine["ratings"]] == [4]
    r = world.client.get("/api/ratings", params={"station_id": "st-a"}, headers=world.as_user(SUP))
    assert [(x["subject_id"], x["score"]) for x in r.json()] == [(first, 4)]
    assert world.client.get("/api/ratings", headers=world.as_user("family.b")).json() == []
    r = world.client.put(f"/api/ratings/visit/{second}", json={"score": 3},
                         headers=world.as_user(FAM))  # fmt: skip
    assert (r.status_code, error_code(r)) == (409, "not_done")
    r = world.client.put("/api/ratings/order/o-1", json={"score": 3}, headers=world.as_user(FAM))
    assert (r.status_code, error_code(r)) == (404, "not_found")  # orders: test_order_ratings_api
    r = world.client.put(url, json={"score": 3}, headers=world.as_user("family.b"))
    assert r.status_code == 404
    r = world.client.put(url, json={"score": 3}, headers=world.as_user(STAFF))
    assert r.status_code == 403
    world.clock.t += 7 * 86_400
    r = world.client.put(url, json={"score": 1}, headers=world.as_user(FAM))
    assert (r.status_code, error_code(r)) == (409, "rating_locked")
