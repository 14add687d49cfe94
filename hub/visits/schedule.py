"""Visit plans → visit tasks: cadences, periods, due dates and windows, in local time.

A plan's **cadence** is weekly, fortnightly or monthly, or ``by_risk``: derived from the
resident's care profile by :func:`cadence_for`. Time is cut into **periods** (ISO weeks
from Monday; fortnights counted from Monday 2024-01-01; calendar months) in the station's
time zone, and each period has one visit **due** on the plan's preferred weekday (in the
first week of a fortnight, the first such day of a month) or, with no preference, on the
period's last day. A task is **overdue** at the start of the day after its window
(``window_days`` after the due date), local midnight.

Tasks are generated once their period starts within ``lead_days`` of today, only for due
dates after the latest task already generated (``last_due``) and on or after the plan's
start: generating again with the same inputs gives the same tasks, with the same ids
(``visit:<resident>:<due date>``), which the store inserts once. After a long outage (or a
clock that jumped forward) at most ``max_backfill`` missed periods are generated; a clock
that jumped backwards generates nothing that was not due.

>>> from hub.store.protocols.visits import VisitPlan
>>> plan = VisitPlan("r-1", "weekly", 2, "2026-03-02", weekday=2)
>>> [t.due_on for t in plan_tasks(plan, None, "st-1", "Asia/Shanghai", 1772467200.0, None)]
['2026-03-04', '2026-03-11']
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from hub.store.protocols.visits import CareProfile, VisitPlan, VisitTask
from hub.timezones import zone

Period = Literal["weekly", "fortnightly", "monthly"]

FORTNIGHT_EPOCH = date(2024, 1, 1)
"""A Monday: fortnights are counted from it, so every plan's fortnights line up."""
LEAD_DAYS = 7
"""Tasks appear this many days before their period starts."""
MAX_BACKFILL = 4
"""Missed periods generated at most after an outage."""


def cadence_for(cadence: str, profile: CareProfile | None) -> Period:
    """The period of a plan. ``by_risk``: weekly for a high risk, a resident living alone
    or a left-behind elder; fortnightly for a medium risk; monthly otherwise.

    >>> cadence_for("by_risk", CareProfile("r-1", living_alone=True))
    'weekly'
    >>> cadence_for("by_risk", CareProfile("r-1", risk_level="medium"))
    'fortnightly'
    >>> cadence_for("by_risk", None), cadence_for("fortnightly", None)
    ('monthly', 'fortnightly')
    """
    if cadence in ("weekly", "fortnightly", "monthly"):
        return cadence  # type: ignore[return-value]
    if cadence != "by_risk":
        raise ValueError(f"unknown cadence {cadence!r}")
    if profile is None:
        return "monthly"
    if profile.risk_level == "high" or profile.living_alone or profile.left_behind:
        return "weekly"
    return "fortnightly" if profile.risk_level == "medium" else "monthly"


def local_date(ts: float, tz: str | None) -> date:
    """The calendar date at instant ``ts`` in zone ``tz``."""
    return datetime.fromtimestamp(ts, UTC).astimezone(zone(tz)).date()


def day_start(day: date, tz: str | None) -> float:
    """The instant local ``day`` begins (on a day that starts in a DST gap, the first
    instant that exists).

    >>> day_start(date(2026, 3, 2), "Asia/Shanghai")
    1772380800.0
    """
    return datetime.combine(day, time(0), tzinfo=zone(tz)).timestamp()


def overdue_at(due_on: date, window_days: int, tz: str | None) -> float:
    """When a task due on ``due_on`` becomes overdue: the local start of the day after its
    window."""
    return day_start(due_on + timedelta(days=window_days + 1), tz)


def period_start(day: date, period: Period) -> date:
    """The first day of the period holding ``day``."""
    if period == "monthly":
        return day.replace(day=1)
    monday = day - timedelta(days=day.weekday())
    if period == "weekly":
        return monday
    return FORTNIGHT_EPOCH + timedelta(days=14 * ((monday - FORTNIGHT_EPOCH).days // 14))


def next_period(start: date, period: Period) -> date:
    if period == "monthly":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=7 if period == "weekly" else 14)


def due_in(start: date, period: Period, weekday: int | None) -> date:
    """The due date of the period beginning ``start``."""
    if period == "monthly":
        if weekday is None:
            return start.replace(day=calendar.monthrange(start.year, start.month)[1])
        return start + timedelta(days=(weekday - start.weekday()) % 7)
    if weekday is None:
        return start + timedelta(days=6 if period == "weekly" else 13)
    return start + timedelta(days=weekday)


def _periods(first: date, period: Period) -> Iterator[date]:
    start = period_start(first, period)
    while True:
        yield start
        start = next_period(start, period)


def plan_tasks(
    plan: VisitPlan, profile: CareProfile | None, station_id: str, tz: str | None, now: float,
    last_due: str | None, *, lead_days: int = LEAD_DAYS, max_backfill: int = MAX_BACKFILL,
) -> list[VisitTask]:  # fmt: skip
    """The plan's tasks due to exist at ``now`` that are not yet (see the module docstring)."""
    if not plan.active:
        return []
    period = cadence_for(plan.cadence, profile)
    today = local_date(now, tz)
    first = date.fromisoformat(plan.starts_on)
    if last_due is not None:
        first = max(first, date.fromisoformat(last_due) + timedelta(days=1))
    # never walk further back than the periods that may still be generated
    first = max(first, today - timedelta(days=31 * (max_backfill + 1)))
    found: list[VisitTask] = []
    for start in _periods(first, period):
        if start > today + timedelta(days=lead_days):
            break
        due = due_in(start, period, plan.weekday)
        if due < first:
            continue
        found.append(VisitTask(
            id=f"visit:{plan.resident_id}:{due.isoformat()}", resident_id=plan.resident_id,
            station_id=station_id, kind="visit", origin="plan", due_on=due.isoformat(),
            window_days=plan.window_days, overdue_at=overdue_at(due, plan.window_days, tz),
            created_at=now,
        ))  # fmt: skip
    # the upcoming ones, and the latest missed ones up to max_backfill
    missed = [t for t in found if date.fromisoformat(t.due_on) < today]
    upcoming = [t for t in found if date.fromisoformat(t.due_on) >= today]
    return missed[len(missed) - max_backfill :] + upcoming if max_backfill else upcoming
