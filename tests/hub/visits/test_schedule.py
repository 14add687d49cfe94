"""The pure visit scheduler: cadences, due dates, windows, idempotence, time zones and DST,
and a clock that jumps."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.store.protocols.visits import CareProfile, VisitPlan
from hub.visits.schedule import cadence_for, day_start, overdue_at, plan_tasks

SH = "Asia/Shanghai"


def at(day: str, hour: int = 9, tz: str = SH) -> float:
    """An instant on a local day."""
    return datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=ZoneInfo(tz)).timestamp()


def dues(plan: VisitPlan, now: float, last: str | None = None, tz: str = SH,
         profile: CareProfile | None = None, **kw: int) -> list[str]:  # fmt: skip
    return [t.due_on for t in plan_tasks(plan, profile, "st-1", tz, now, last, **kw)]


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (None, "monthly"),
        (CareProfile("r", risk_level="low"), "monthly"),
        (CareProfile("r", risk_level="medium"), "fortnightly"),
        (CareProfile("r", risk_level="high"), "weekly"),
        (CareProfile("r", living_alone=True), "weekly"),
        (CareProfile("r", left_behind=True, risk_level="medium"), "weekly"),
    ],
)
def test_cadence_by_risk(profile: CareProfile | None, expected: str) -> None:
    assert cadence_for("by_risk", profile) == expected
    assert cadence_for("fortnightly", profile) == "fortnightly"  # an explicit cadence wins


def test_weekly_on_a_weekday_and_without_one() -> None:
    wed = VisitPlan("r-1", "weekly", 2, "2026-03-02", weekday=2)
    assert dues(wed, at("2026-03-03")) == ["2026-03-04", "2026-03-11"]
    anyday = VisitPlan("r-1", "weekly", 2, "2026-03-02")
    assert dues(anyday, at("2026-03-03")) == ["2026-03-08", "2026-03-15"]  # Sundays


def test_fortnightly_and_monthly_due_dates() -> None:
    fort = VisitPlan("r-1", "fortnightly", 3, "2026-03-02", weekday=0)
    # fortnights from Monday 2024-01-01: 2026-02-23 and 2026-03-09 begin one
    assert dues(fort, at("2026-03-03")) == ["2026-03-09"]
    monthly = VisitPlan("r-1", "monthly", 5, "2026-02-10", weekday=4)
    assert dues(monthly, at("2026-02-25")) == ["2026-03-06"]  # Feb's first Friday was before
    assert dues(VisitPlan("r-1", "monthly", 5, "2026-02-10"), at("2026-02-11")) == ["2026-02-28"]


def test_window_sets_the_overdue_instant_in_local_time() -> None:
    [task] = plan_tasks(VisitPlan("r-1", "monthly", 3, "2026-02-01"), None, "st-1", SH,
                        at("2026-02-11"), None)  # fmt: skip
    assert task.due_on == "2026-02-28"
    assert task.overdue_at == at("2026-03-04", 0)  # 28 Feb + 3 days late, then the next day
    assert task.id == "visit:r-1:2026-02-28"


def test_idempotent_and_resumes_after_the_last_generated() -> None:
    plan = VisitPlan("r-1", "weekly", 1, "2026-03-02", weekday=2)
    now = at("2026-03-03")
    first = plan_tasks(plan, None, "st-1", SH, now, None)
    assert plan_tasks(plan, None, "st-1", SH, now, None) == first
    assert plan_tasks(plan, None, "st-1", SH, now, first[-1].due_on) == []
    later = dues(plan, at("2026-03-10"), first[-1].due_on)
    assert later == ["2026-03-18"]


def test_the_same_instant_is_another_day_in_another_zone() -> None:
    plan = VisitPlan("r-1", "weekly", 0, "2026-03-01", weekday=0)
    instant = at("2026-03-08", 20, "UTC")  # Monday 04:00 in Shanghai, Sunday evening in UTC
    assert dues(plan, instant, tz=SH, lead_days=0) == ["2026-03-02", "2026-03-09"]
    assert dues(plan, instant, tz="UTC", lead_days=0) == ["2026-03-02"]


def test_dst_days_are_23_hours_and_a_midnight_gap_starts_at_the_first_instant() -> None:
    paris = "Europe/Paris"  # summer time began 2026-03-29 at 02:00
    assert overdue_at(date(2026, 3, 28), 0, paris) - overdue_at(date(2026, 3, 27), 0, paris) == (
        86_400.0
    )
    assert overdue_at(date(2026, 3, 29), 0, paris) - overdue_at(date(2026, 3, 28), 0, paris) == (
        23 * 3600.0
    )
    havana = "America/Havana"  # clocks jump from 00:00 to 01:00 on 2026-03-08
    start = day_start(date(2026, 3, 8), havana)
    local = datetime.fromtimestamp(start, ZoneInfo(havana))
    assert (local.date(), local.hour) == (date(2026, 3, 8), 1)
    assert start - day_start(date(2026, 3, 7), havana) == 24 * 3600.0


def test_a_clock_jumping_backwards_generates_nothing_new() -> None:
    plan = VisitPlan("r-1", "weekly", 1, "2026-03-02", weekday=2)
    made = dues(plan, at("2026-03-10"))
    assert made == ["2026-03-04", "2026-03-11", "2026-03-18"]
    assert dues(plan, at("2025-12-01"), made[-1]) == []
    assert dues(plan, at("2026-02-20"), None) == []  # over a week before the plan starts
    assert dues(plan, at("2026-03-01"), None) == ["2026-03-04"]  # its first week is near


def test_a_clock_jumping_forward_backfills_at_most_four_missed_periods() -> None:
    plan = VisitPlan("r-1", "weekly", 1, "2026-01-05", weekday=0)
    got = dues(plan, at("2026-03-18"), "2026-01-05")
    assert got == ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    assert dues(plan, at("2026-03-18"), "2026-01-05", max_backfill=0) == ["2026-03-23"]


def test_inactive_plan_and_unknown_cadence() -> None:
    assert dues(VisitPlan("r-1", "weekly", 1, "2026-03-02", active=False), at("2026-03-03")) == []
    with pytest.raises(ValueError, match="unknown cadence"):
        cadence_for("daily", None)
