"""Visits and follow-ups of residents at home, and ratings of what was done for them.

The rules (cadences, windows, which alarm needs a follow-up) live in :mod:`hub.visits`; the
store keeps rows. Dates a person plans by (``starts_on``, ``due_on``) are local calendar
dates of the resident's station as ISO text (``"2026-03-02"``); instants are epoch seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

RiskLevel = Literal["low", "medium", "high"]
Cadence = Literal["weekly", "fortnightly", "monthly", "by_risk"]
TaskKind = Literal["visit", "followup"]
TaskOrigin = Literal["plan", "alarm", "discharge"]
SubjectKind = Literal["visit", "order"]

RISK_LEVELS: tuple[RiskLevel, ...] = ("low", "medium", "high")
CADENCES: tuple[Cadence, ...] = ("weekly", "fortnightly", "monthly", "by_risk")
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("visit", "order")


@dataclass(frozen=True, slots=True)
class CareProfile:
    """What a visit cadence is derived from: a resident living alone, a left-behind elder
    (children working far away), a risk level set by the station."""

    resident_id: str
    living_alone: bool = False
    left_behind: bool = False
    risk_level: RiskLevel = "low"
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class VisitPlan:
    """How often a resident is visited. ``weekday`` (0 Monday … 6 Sunday) is the preferred
    day; ``window_days`` how many days late a visit may be before it is overdue."""

    resident_id: str
    cadence: Cadence
    window_days: int
    starts_on: str
    weekday: int | None = None
    active: bool = True
    updated_at: float = 0.0
    updated_by: str = ""


@dataclass(frozen=True, slots=True)
class VisitTask:
    """A visit or follow-up to make: due on ``due_on`` (local date), overdue from
    ``overdue_at`` (the end of the window, epoch seconds)."""

    id: str
    resident_id: str
    station_id: str
    kind: TaskKind
    origin: TaskOrigin
    due_on: str
    window_days: int
    overdue_at: float
    created_at: float
    source_id: str | None = None
    state: Literal["open", "done"] = "open"
    note: str = ""
    alerted_at: float | None = None
    """When its overdue alert was raised (once per task)."""
    done_at: float | None = None


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """What a visitor found. ``mood``, ``mobility`` and ``living`` take values from the
    fixed lists of :mod:`hub.visits.assessment`; ``photo_ref`` names a photo kept elsewhere."""

    task_id: str
    resident_id: str
    station_id: str
    visitor: str
    visited_at: float
    recorded_at: float
    mood: str
    mobility: str
    living: str
    needs: tuple[str, ...] = ()
    notes: str = ""
    photo_ref: str | None = None


@dataclass(frozen=True, slots=True)
class RatingRow:
    """One rater's score (1–5) of one visit or order."""

    subject_kind: SubjectKind
    subject_id: str
    rater: str
    resident_id: str
    station_id: str
    score: int
    comment: str
    created_at: float
    updated_at: float


@runtime_checkable
class VisitStore(Protocol):
    """Care profiles, visit plans, visit and follow-up tasks, visit records, ratings."""

    def set_care_profile(self, profile: CareProfile) -> None:
        """Create or replace a resident's profile."""
        ...

    def get_care_profile(self, resident_id: str) -> CareProfile | None: ...

    def list_care_profiles(self) -> list[CareProfile]: ...

    def set_visit_plan(self, plan: VisitPlan) -> None:
        """Create or replace a resident's plan."""
        ...

    def get_visit_plan(self, resident_id: str) -> VisitPlan | None: ...

    def list_visit_plans(self, *, active: bool | None = True) -> list[VisitPlan]: ...

    def add_visit_tasks(self, tasks: Sequence[VisitTask]) -> int:
        """Insert the tasks whose id is new (one transaction); return how many were."""
        ...

    def get_visit_task(self, task_id: str) -> VisitTask:
        """Raises NotFound."""
        ...

    def list_visit_tasks(
        self, *, station_ids: Sequence[str] | None = None, resident_id: str | None = None,
        state: str | None = None, kind: str | None = None, due_until: str | None = None,
        overdue_at: float | None = None, limit: int = 200,
    ) -> list[VisitTask]:  # fmt: skip
        """By due date (newest first when ``state`` is ``"done"``, else oldest first).
        ``overdue_at``: only tasks overdue at that instant (still open)."""
        ...

    def last_plan_due(self) -> dict[str, str]:
        """Per resident, the due date of its latest task generated from its plan."""
        ...

    def unalerted_overdue(self, now: float, limit: int = 1000) -> list[VisitTask]:
        """Open tasks past their window at ``now`` that raised no alert yet."""
        ...

    def mark_visit_alerted(self, task_ids: Sequence[str], at: float) -> None: ...

    def record_visit(self, record: VisitRecord) -> VisitTask:
        """Store the record and mark its task done in one transaction; return the task as
        it was. NotFound for an unknown task, Conflict when it is done already."""
        ...

    def visit_records(self, task_ids: Sequence[str]) -> dict[str, VisitRecord]: ...

    def put_rating(self, rating: RatingRow) -> RatingRow:
        """Create the rating, or update score and comment of the rater's existing one
        (``created_at`` kept); return it as stored."""
        ...

    def get_rating(self, subject_kind: str, subject_id: str, rater: str) -> RatingRow | None: ...

    def list_ratings(
        self, *, station_ids: Sequence[str] | None = None, resident_id: str | None = None,
        subject_kind: str | None = None, subject_ids: Sequence[str] | None = None,
        rater: str | None = None, limit: int = 200,
    ) -> list[RatingRow]:  # fmt: skip
        """Newest first."""
        ...

    def resolved_alerts_since(
        self, after: float, until: float, limit: int = 1000
    ) -> list[tuple[str, float]]:
        """``(alert id, updated_at)`` of alerts resolved in ``(after, until]``, oldest
        first."""
        ...
