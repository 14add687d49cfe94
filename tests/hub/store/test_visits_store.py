"""The visits area of the Store contract, on both back-ends: care profiles, visit plans,
idempotent tasks, recording a visit, overdue tasks, ratings, resolved alerts."""

from __future__ import annotations

import dataclasses

import pytest

from hub.errors import Conflict, NotFound, StoreError
from hub.store.base import (
    CareProfile,
    City,
    District,
    RatingRow,
    Resident,
    Station,
    Store,
    VisitPlan,
    VisitRecord,
    VisitTask,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86_400.0


@pytest.fixture
def registry(store: Store) -> Store:
    store.add_city(City("sh", "上海市"))
    store.add_district(District("pd", "sh", "浦东新区"))
    for s in ("a", "b"):
        store.add_station(Station(f"st-{s}", "pd", f"站{s}"))
        store.add_resident(Resident(f"r-{s}", f"st-{s}", f"居民{s}"))
    return store


def task(tid: str, resident: str = "r-a", due: str = "2026-01-07", **kw: object) -> VisitTask:
    base = VisitTask(tid, resident, f"st-{resident[-1]}", "visit", "plan", due, 2,
                     T0 + 9 * DAY, T0)  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def record(tid: str, **kw: object) -> VisitRecord:
    base = VisitRecord(tid, "", "", "staff.a", T0 + 5 * DAY, T0 + 5 * DAY + 60, "good",
                       "walks_with_aid", "adequate", ("meals", "repair"), "屋顶漏水")  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_profile_and_plan_upsert(registry: Store) -> None:
    s = registry
    assert s.get_care_profile("r-a") is None and s.get_visit_plan("r-a") is None
    s.set_care_profile(CareProfile("r-a", living_alone=True, risk_level="medium", updated_at=T0))
    s.set_care_profile(CareProfile("r-a", left_behind=True, risk_level="high", updated_at=T0 + 1))
    assert s.get_care_profile("r-a") == CareProfile("r-a", False, True, "high", T0 + 1)
    plan = VisitPlan("r-a", "weekly", 2, "2026-01-05", 2, True, T0, "sup.a")
    s.set_visit_plan(plan)
    s.set_visit_plan(VisitPlan("r-b", "by_risk", 0, "2026-01-01", None, False, T0, "sup.b"))
    assert s.get_visit_plan("r-a") == plan
    s.set_visit_plan(dataclasses.replace(plan, cadence="monthly", weekday=None))
    assert s.get_visit_plan("r-a").cadence == "monthly"  # type: ignore[union-attr]
    assert [p.resident_id for p in s.list_visit_plans()] == ["r-a"]
    assert [p.resident_id for p in s.list_visit_plans(active=None)] == ["r-a", "r-b"]
    with pytest.raises(StoreError):  # the database checks the window too
        s.set_visit_plan(dataclasses.replace(plan, window_days=99))


def test_tasks_are_inserted_once_and_listed(registry: Store) -> None:
    s = registry
    tasks = [task("visit:r-a:2026-01-07"), task("visit:r-a:2026-01-14", due="2026-01-14"),
             task("visit:r-b:2026-01-08", resident="r-b", due="2026-01-08")]  # fmt: skip
    assert s.add_visit_tasks(tasks) == 3
    assert s.add_visit_tasks(tasks) == 0  # idempotent
    assert s.get_visit_task("visit:r-a:2026-01-07") == tasks[0]
    with pytest.raises(NotFound):
        s.get_visit_task("nope")
    assert [t.id for t in s.list_visit_tasks(station_ids=["st-a"])] == [
        "visit:r-a:2026-01-07", "visit:r-a:2026-01-14"]  # fmt: skip
    assert s.list_visit_tasks(station_ids=[]) == []
    assert [t.id for t in s.list_visit_tasks(due_until="2026-01-08")] == [
        "visit:r-a:2026-01-07", "visit:r-b:2026-01-08"]  # fmt: skip
    assert s.last_plan_due() == {"r-a": "2026-01-14", "r-b": "2026-01-08"}


def test_overdue_alerted_once(registry: Store) -> None:
    s = registry
    s.add_visit_tasks([task("t1"), task("t2", overdue_at=T0 + 20 * DAY)])
    assert s.unalerted_overdue(T0 + 9 * DAY - 1) == []
    assert [t.id for t in s.unalerted_overdue(T0 + 9 * DAY)] == ["t1"]
    assert [t.id for t in s.list_visit_tasks(overdue_at=T0 + 9 * DAY)] == ["t1"]
    s.mark_visit_alerted(["t1"], T0 + 9 * DAY + 5)
    s.mark_visit_alerted(["t1"], T0 + 10 * DAY)  # the first time stays
    assert s.get_visit_task("t1").alerted_at == T0 + 9 * DAY + 5
    assert s.unalerted_overdue(T0 + 30 * DAY) == [s.get_visit_task("t2")]


def test_record_visit_completes_the_task_once(registry: Store) -> None:
    s = registry
    s.add_visit_tasks([task("t1")])
    before = s.record_visit(record("t1"))
    assert before.state == "open"
    done = s.get_visit_task("t1")
    assert (done.state, done.done_at) == ("done", T0 + 5 * DAY + 60)
    got = s.visit_records(["t1", "t9"])
    assert list(got) == ["t1"]
    assert got["t1"] == record("t1", resident_id="r-a", station_id="st-a")
    with pytest.raises(Conflict):
        s.record_visit(record("t1"))
    with pytest.raises(NotFound):
        s.record_visit(record("t9"))
    assert s.unalerted_overdue(T0 + 30 * DAY) == []
    assert [t.id for t in s.list_visit_tasks(state="done")] == ["t1"]


def test_ratings_one_per_subject_and_rater(registry: Store) -> None:
    s = registry
    first = RatingRow("visit", "t1", "family.a", "r-a", "st-a", 4, "很好", T0, T0)
    assert s.put_rating(first) == first
    again = dataclasses.replace(first, score=2, comment="来晚了", created_at=T0 + 50,
                                updated_at=T0 + 50)  # fmt: skip
    assert s.put_rating(again) == dataclasses.replace(again, created_at=T0)
    s.put_rating(RatingRow("order", "o-1", "family.a", "r-a", "st-a", 5, "", T0 + 9, T0 + 9))
    s.put_rating(RatingRow("visit", "t2", "family.b", "r-b", "st-b", 3, "", T0 + 7, T0 + 7))
    assert s.get_rating("visit", "t1", "other") is None
    assert [r.subject_id for r in s.list_ratings(station_ids=["st-a"])] == ["t1", "o-1"]
    assert [r.subject_id for r in s.list_ratings(subject_kind="visit")] == ["t1", "t2"]
    assert [r.subject_id for r in s.list_ratings(subject_ids=["t2"], rater="family.b")] == ["t2"]
    with pytest.raises(StoreError):
        s.put_rating(dataclasses.replace(first, subject_id="t3", score=6))
