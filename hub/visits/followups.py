"""Follow-up visits (回访): after an alarm that was real, and after a hospital stay.

**After an alarm**: a resolved alert of a kind in :data:`ALARM_KINDS` (a fall, an SOS,
abnormal vital signs, blood pressure or glucose) whose outcome is in :data:`ALARM_OUTCOMES`
(a real emergency, or nobody answered and the case was handed on) calls for a follow-up
visit due :data:`ALARM_WITHIN_DAYS` days after the alert was resolved. A false alarm, a
test, a device fault, a case handled by phone or an alert that cleared itself does not.

**After a hospital stay**: a recorded discharge calls for a follow-up due within the days
given (:data:`DISCHARGE_WITHIN_DAYS` by default).

Each follow-up's id names its cause (``followup:alarm:<alert id>``,
``followup:discharge:<resident>:<date>``), so it is created once however often the rule
runs.

>>> t = alarm_followup("al-7", "fall", "real_emergency", "r-1", "st-1", 1772467200.0,
...                    "Asia/Shanghai")
>>> t.id, t.due_on, t.kind
('followup:alarm:al-7', '2026-03-05', 'followup')
>>> alarm_followup("al-8", "fall", "false_alarm", "r-1", "st-1", 1772467200.0, None) is None
True
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from hub.store.protocols.visits import VisitTask
from hub.visits.schedule import local_date, overdue_at

ALARM_KINDS: Final = frozenset({"fall", "sos", "vitals", "vitals_drift", "bp", "glucose"})
ALARM_OUTCOMES: Final = frozenset({"real_emergency", "no_response"})
ALARM_WITHIN_DAYS: Final = 2
DISCHARGE_WITHIN_DAYS: Final = 3
FOLLOWUP_WINDOW_DAYS: Final = 1
"""Days a follow-up may be late before it is overdue."""


def needs_followup(kind: str, outcome: str | None) -> bool:
    """Does a resolved alert of ``kind`` with ``outcome`` call for a follow-up visit?"""
    return kind in ALARM_KINDS and outcome in ALARM_OUTCOMES


def alarm_followup(
    alert_id: str, kind: str, outcome: str | None, resident_id: str | None,
    station_id: str | None, resolved_at: float, tz: str | None, *,
    within_days: int = ALARM_WITHIN_DAYS, window_days: int = FOLLOWUP_WINDOW_DAYS,
) -> VisitTask | None:  # fmt: skip
    """The follow-up a resolved alert calls for, or None."""
    if resident_id is None or station_id is None or not needs_followup(kind, outcome):
        return None
    due = local_date(resolved_at, tz) + timedelta(days=within_days)
    return VisitTask(
        id=f"followup:alarm:{alert_id}", resident_id=resident_id, station_id=station_id,
        kind="followup", origin="alarm", source_id=alert_id, due_on=due.isoformat(),
        window_days=window_days, overdue_at=overdue_at(due, window_days, tz),
        created_at=resolved_at, note=kind,
    )  # fmt: skip


def discharge_followup(
    resident_id: str, station_id: str, discharged_on: date, tz: str | None, now: float, *,
    within_days: int = DISCHARGE_WITHIN_DAYS, window_days: int = FOLLOWUP_WINDOW_DAYS,
    note: str = "",
) -> VisitTask:  # fmt: skip
    """The follow-up after a hospital discharge on ``discharged_on`` (a local date)."""
    due = discharged_on + timedelta(days=within_days)
    return VisitTask(
        id=f"followup:discharge:{resident_id}:{discharged_on.isoformat()}",
        resident_id=resident_id, station_id=station_id, kind="followup", origin="discharge",
        source_id=discharged_on.isoformat(), due_on=due.isoformat(), window_days=window_days,
        overdue_at=overdue_at(due, window_days, tz), created_at=now, note=note,
    )  # fmt: skip
