"""Visit housekeeping against a real store and alert engine, on an injected clock: plan
tasks generated, an overdue visit raising exactly one medium alert that resolves when the
visit is recorded, follow-ups after a real alarm and after a discharge."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from carehub.serve import Hub
from hub.settings import HubSettings
from hub.store.base import (
    City,
    District,
    FindingRow,
    Resident,
    Station,
    Store,
    VisitPlan,
    VisitRecord,
    VisitTask,
)
from hub.visits.followups import discharge_followup

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 9) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=SH).timestamp()


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def hub(store: Store) -> Hub:
    store.add_city(City("sh", "上海市"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-a", "pd", "花木站", timezone="Asia/Shanghai"))
    store.add_resident(Resident("r-a", "st-a", "王秀英"))
    store.add_resident(Resident("r-b", "st-a", "李桂兰"))
    clock = Clock(at("2026-01-05"))
    hub = Hub(store, "mqtt://127.0.0.1:1?protocol=3", settings=HubSettings(), clock=clock)
    hub.alert_engine.recover(clock())
    return hub


def overdue_alerts(hub: Hub, resident: str = "r-a") -> list[tuple[str, str, str | None]]:
    found = hub.alert_engine.list_alerts(kind="visit_overdue", resident_id=resident)
    return [(a.state, a.priority, a.outcome) for a in found]


def record(hub: Hub, task_id: str) -> None:
    now = hub.clock()
    hub.store.record_visit(VisitRecord(task_id, "", "", "staff.a", now, now, "good",
                                       "walks_alone", "good"))  # fmt: skip


async def test_overdue_visit_raises_one_medium_alert_and_recording_resolves_it(hub: Hub) -> None:
    clock = hub.clock
    assert isinstance(clock, Clock)
    hub.store.set_visit_plan(VisitPlan("r-a", "weekly", 2, "2026-01-05", weekday=2))
    await hub.visits.step()
    tasks = hub.store.list_visit_tasks(resident_id="r-a")
    assert [t.due_on for t in tasks] == ["2026-01-07", "2026-01-14"]
    clock.t = at("2026-01-09", 23) + 3599  # the last second of the window
    await hub.visits.step()
    assert overdue_alerts(hub) == []
    clock.t = at("2026-01-10", 0)
    await hub.visits.step()
    assert overdue_alerts(hub) == [("open", "medium", None)]
    [alert] = hub.alert_engine.list_alerts(kind="visit_overdue")
    assert (alert.station_id, alert.evidence["task_id"]) == ("st-a", "visit:r-a:2026-01-07")
    assert "2026-01-07" in alert.reason["zh-CN"] and "overdue" in alert.reason["en"]
    for hours in (1, 30):  # later rounds raise nothing more
        clock.t = at("2026-01-10", 0) + hours * 3600
        await hub.visits.step()
    [again] = hub.alert_engine.list_alerts(kind="visit_overdue")
    assert (again.id, again.count) == (alert.id, 1)
    assert len(hub.store.findings(kind="visit_overdue")) == 1
    task = hub.store.get_visit_task("visit:r-a:2026-01-07")
    record(hub, task.id)
    await hub.visits.recorded(task)
    assert overdue_alerts(hub) == [("resolved", "medium", "self_cleared")]


async def test_alert_stays_until_every_alerted_task_is_recorded(hub: Hub) -> None:
    clock = hub.clock
    assert isinstance(clock, Clock)
    hub.store.set_visit_plan(VisitPlan("r-a", "weekly", 0, "2026-01-05", weekday=0))
    await hub.visits.step()
    clock.t = at("2026-01-19")  # two weekly visits missed (the 5th and the 12th)
    await hub.visits.step()
    alerted = [t for t in hub.store.list_visit_tasks(resident_id="r-a") if t.alerted_at]
    assert [t.due_on for t in alerted] == ["2026-01-05", "2026-01-12"]
    assert overdue_alerts(hub) == [("open", "medium", None)]  # one alert for the resident
    record(hub, alerted[0].id)
    await hub.visits.recorded(alerted[0])
    assert overdue_alerts(hub) == [("open", "medium", None)]
    record(hub, alerted[1].id)
    await hub.visits.recorded(alerted[1])
    assert overdue_alerts(hub) == [("resolved", "medium", "self_cleared")]


async def test_followup_after_a_real_alarm_not_after_a_false_one(hub: Hub) -> None:
    clock = hub.clock
    assert isinstance(clock, Clock)
    engine = hub.alert_engine
    ids = []
    for resident, kind in (("r-a", "fall"), ("r-b", "fall"), ("r-a", "low_battery")):
        f = FindingRow(resident, f"w-{resident}-{kind}", kind, "high", clock(), clock(), {},
                       {"zh-CN": kind, "en": kind})  # fmt: skip
        engine.on_finding(f, clock())
        [a] = [a for a in engine.open_alerts() if a.device_id == f.device_id]
        ids.append(a.id)
    clock.t += 600
    engine.resolve(ids[0], "user:staff.a", "real_emergency", clock())
    engine.resolve(ids[1], "user:staff.a", "false_alarm", clock())
    engine.resolve(ids[2], "user:staff.a", "real_emergency", clock())  # not a kind that needs one
    await hub.visits.step()
    assert hub.store.list_visit_tasks(kind="followup") == []  # left to settle
    clock.t += 60
    await hub.visits.step()
    followups = hub.store.list_visit_tasks(kind="followup")
    assert [(t.id, t.resident_id, t.due_on, t.origin) for t in followups] == [
        (f"followup:alarm:{ids[0]}", "r-a", "2026-01-07", "alarm")]  # fmt: skip
    await hub.visits.step()  # the watermark moved on: nothing twice
    assert len(hub.store.list_visit_tasks(kind="followup")) == 1


async def test_discharge_followup_becomes_overdue_like_a_visit(hub: Hub) -> None:
    clock = hub.clock
    assert isinstance(clock, Clock)
    task = discharge_followup("r-b", "st-a", date(2026, 1, 5), "Asia/Shanghai", clock(),
                              within_days=3)  # fmt: skip
    assert hub.store.add_visit_tasks([task, task]) == 1
    assert (task.due_on, task.overdue_at) == ("2026-01-08", at("2026-01-10", 0))
    clock.t = at("2026-01-10", 1)
    await hub.visits.step()
    [alert] = hub.alert_engine.list_alerts(kind="visit_overdue", resident_id="r-b")
    assert (alert.priority, alert.evidence["task_kind"]) == ("medium", "followup")
    assert "回访" in alert.reason["zh-CN"]


async def test_a_visit_recorded_during_the_round_clears_its_alert(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The visit is recorded after the round listed the overdue task but before it marked
    it: recording saw no alert to clear, so the round clears it itself."""
    clock = hub.clock
    assert isinstance(clock, Clock)
    hub.store.set_visit_plan(VisitPlan("r-a", "weekly", 0, "2026-01-05", weekday=0))
    await hub.visits.step()
    clock.t = at("2026-01-06")
    listed = hub.store.unalerted_overdue

    def listed_then_recorded(now: float, limit: int = 1000) -> list[VisitTask]:
        tasks = listed(now, limit)
        for t in tasks:
            record(hub, t.id)
        return tasks

    monkeypatch.setattr(hub.store, "unalerted_overdue", listed_then_recorded)
    await hub.visits.step()
    assert overdue_alerts(hub) == [("resolved", "medium", "self_cleared")]


async def test_plans_generate_hourly_and_at_once_when_set_through_the_keeper(hub: Hub) -> None:
    clock = hub.clock
    assert isinstance(clock, Clock)
    await hub.visits.step()  # a round with no plans
    hub.store.set_visit_plan(VisitPlan("r-a", "weekly", 1, "2026-01-05", weekday=3))
    hub.store.set_visit_plan(VisitPlan("r-b", "weekly", 1, "2026-01-05", weekday=4))
    clock.t += 1800
    await hub.visits.step()
    assert hub.store.list_visit_tasks() == []  # the next generation is an hour after the last
    assert hub.visits.generate(clock(), "r-b") == 2  # what the plan API does
    assert {t.resident_id for t in hub.store.list_visit_tasks()} == {"r-b"}
    clock.t += 1800
    await hub.visits.step()
    assert {t.resident_id for t in hub.store.list_visit_tasks()} == {"r-a", "r-b"}
