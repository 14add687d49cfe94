"""The alert lifecycle as a pure state machine: an :class:`Alert` value and its transitions.

::

            finding                  acknowledge (person)            resolve (person, outcome)
    (none) ────────▶  open  ─────────────────────────▶ acknowledged ─────────────────────▶ resolved
                      │  ▲ repeat: count + 1, evidence      │                                  ▲
                      │  └──────────── updated, priority    └── resolve (person, outcome) ─────┤
                      │               never lowered                                            │
                      └── condition clears, not latched, nobody acknowledged yet ── self_cleared┘

Priorities follow the idea of IEC 60601-1-8 (medical electrical equipment, alarm systems):
*high* needs an immediate response, *medium* a prompt one, *low* awareness. **Latched**
kinds (fall, SOS, smoke, gas) stay open until a person resolves them even when the condition
clears (IEC 60601-1-8 §6.2, "latching alarm signals"); a non-latched alert clears itself,
with the reason recorded, when the condition clears before anyone acknowledged it.

Every function here is pure: it takes an alert and ``now`` and returns a new alert; illegal
moves raise :class:`TransitionError`. Nothing here does I/O or reads a clock.

>>> a = new_alert("al-1", spec_for("fall"), subject="r-1", kind="fall", priority="high",
...               at=100.0, resident_id="r-1", device_id="w-1")
>>> a = acknowledge(a, "nurse-li", 130.0)
>>> a.state, a.acked_by
('acknowledged', 'nurse-li')
>>> resolve(a, "nurse-li", "false_alarm", 200.0).state
'resolved'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Final, Literal

from hub.errors import CarehubError

Priority = Literal["high", "medium", "low"]
State = Literal["open", "acknowledged", "resolved"]
Category = Literal["clinical", "technical"]
Outcome = Literal[
    "real_emergency", "handled_by_phone", "no_response", "false_alarm", "device_fault", "test",
    "self_cleared",
]  # fmt: skip

PRIORITIES: Final[tuple[Priority, ...]] = ("high", "medium", "low")
RANK: Final[dict[str, int]] = {"low": 0, "medium": 1, "high": 2}
PERSON_OUTCOMES: Final[tuple[Outcome, ...]] = (
    "real_emergency", "handled_by_phone", "no_response", "false_alarm", "device_fault", "test",
)  # fmt: skip
"""``no_response``: nobody answered or opened, and the case was handed on (emergency
services, family) without the station learning what happened."""
"""Outcomes a person chooses when resolving. ``self_cleared`` is the system's only one."""

SYSTEM: Final = "system"
"""The actor of everything the hub does by itself (opening, self-clearing, escalating)."""

PRIVATE_FIELDS: Final = frozenset(
    {"finding_ids", "trigger", "escalation_base", "steps_fired", "repeats_fired"}
)
"""The engine's bookkeeping: left out of what the dashboard and webhooks show of an alert."""


class TransitionError(CarehubError):
    """An alert cannot make the requested move (wrong state, missing person or outcome)."""


@dataclass(frozen=True, slots=True)
class KindSpec:
    """How alerts of one kind behave."""

    category: Category
    latched: bool
    activity: bool = False
    """Activity-pattern alerts, suppressed while the resident is away or in hospital."""


_LATCHED = KindSpec("clinical", latched=True)
_CLINICAL = KindSpec("clinical", latched=False)
_ACTIVITY = KindSpec("clinical", latched=False, activity=True)
_TECHNICAL = KindSpec("technical", latched=False)

KINDS: Final[dict[str, KindSpec]] = {
    "fall": _LATCHED, "sos": _LATCHED, "smoke": _LATCHED, "gas": _LATCHED,
    "vitals": _CLINICAL, "vitals_drift": _CLINICAL, "bp": _CLINICAL, "glucose": _CLINICAL,
    "water": _CLINICAL, "room_temp": _CLINICAL,
    "inactivity": _ACTIVITY, "not_up": _ACTIVITY, "night_exit": _ACTIVITY,
    "long_bathroom": _ACTIVITY, "out_of_bed": _ACTIVITY,
    "device_offline": _TECHNICAL, "low_battery": _TECHNICAL, "battery_critical": _TECHNICAL,
    "not_worn": _TECHNICAL, "clock_skew": _TECHNICAL, "stuck_sensor": _TECHNICAL,
    "channel_down": _TECHNICAL, "connectivity_loss": _TECHNICAL,
    "visit_overdue": _ACTIVITY,
}  # fmt: skip
"""Known alert kinds. A kind not listed is a non-latched clinical alert. ``visit_overdue``
(:mod:`hub.visits.overdue`) is muted like the activity kinds while the resident is away or
in hospital: a home visit is not missed then."""

MERGES: Final[dict[str, str]] = {"long_lie": "fall", "battery_critical": "low_battery"}
"""Finding kinds that update another kind's alert (a long lie is the same fall, worse)."""

CLEARS: Final[dict[str, tuple[str, ...]]] = {
    "fall_recovered": ("fall",),
    "vitals_recovered": ("vitals",),  # drift has its own vitals_drift_cleared
    "activity_resumed": ("inactivity", "not_up", "long_bathroom", "out_of_bed", "night_exit"),
    "device_online": ("device_offline",),
    "channel_up": ("channel_down",),
}
"""Finding kinds that say a condition is over. ``X_cleared`` clears ``X`` as well."""


def spec_for(kind: str) -> KindSpec:
    """The behaviour of ``kind`` (unknown kinds are non-latched clinical alerts)."""
    return KINDS.get(kind, _CLINICAL)


def alert_kind(finding_kind: str) -> str:
    """The alert kind a finding opens or updates: ``long_lie`` → ``fall``."""
    return MERGES.get(finding_kind, finding_kind)


def cleared_kinds(finding_kind: str, names: object = None) -> tuple[str, ...]:
    """The alert kinds a finding says are over (empty for an ordinary finding).

    ``names`` is the finding's ``evidence["clears"]`` when it has one: a detector that knows
    exactly which condition ended (getting back into bed ends ``out_of_bed``, not a
    ``long_bathroom`` alert) narrows the default set to that kind.

    >>> cleared_kinds("smoke_cleared"), cleared_kinds("fall")
    (('smoke',), ())
    >>> cleared_kinds("activity_resumed", "out_of_bed")
    ('out_of_bed',)
    """
    if isinstance(names, str) and names in CLEARS.get(finding_kind, ()):
        return (names,)
    if finding_kind in CLEARS:
        return CLEARS[finding_kind]
    if finding_kind.endswith("_cleared"):
        return (finding_kind.removesuffix("_cleared"),)
    return ()


def is_person(actor: str) -> bool:
    """True for a real person's id (not empty, not the system)."""
    return bool(actor.strip()) and actor != SYSTEM


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: what happened to whom, where it stands, and its escalation bookkeeping.

    ``subject`` is whom the alert is about: the resident for clinical alerts (so one open
    alert per resident and kind, whichever device saw it), the device for technical ones.
    """

    id: str
    subject: str
    kind: str
    category: Category
    priority: Priority
    latched: bool
    opened_at: float
    updated_at: float
    resident_id: str | None = None
    device_id: str | None = None
    station_id: str | None = None
    state: State = "open"
    count: int = 1
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: dict[str, str] = field(default_factory=dict)
    finding_ids: tuple[int, ...] = ()
    last_seen_at: float = 0.0
    acked_by: str | None = None
    acked_at: float | None = None
    assigned_to: str | None = None
    resolved_by: str | None = None
    resolved_at: float | None = None
    outcome: Outcome | None = None
    note: str | None = None
    condition_cleared_at: float | None = None
    clear_reason: dict[str, str] | None = None
    suppressed: str | None = None
    """Why nobody is told (``silence:ID``, ``gateway_offline:GW``, ``resident_away``...)."""
    escalation_base: float | None = None
    """When escalation (re)started: opening, un-suppression or a priority raise."""
    steps_fired: int = 0
    repeats_fired: int = 0
    next_deadline: float | None = None
    command_id: str | None = None
    command_status: str | None = None
    trigger: str | None = None
    """The finding that opened it (``device|kind|time``, :func:`hub.store.base.finding_key`):
    the store keeps one alert per trigger, so a finding taken in twice opens one alert."""
    version: int = 0
    """The version of the stored alert this value was read at or derived from (0: never
    stored). The store writes a change only over that version, so a step decided on an
    alert that another process changed meanwhile is refused and decided again. The store
    keeps it in a column of its own: it is not part of :meth:`to_dict`."""

    @property
    def is_open(self) -> bool:
        """Not resolved (open or acknowledged)."""
        return self.state != "resolved"

    @property
    def key(self) -> str:
        """``subject|kind``: at most one alert per key is not resolved."""
        return f"{self.subject}|{self.kind}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["finding_ids"] = list(self.finding_ids)
        del data["version"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Alert:
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["finding_ids"] = tuple(kwargs.get("finding_ids", ()))
        return cls(**kwargs)


def new_alert(
    alert_id: str, spec: KindSpec, *, subject: str, kind: str, priority: Priority, at: float,
    resident_id: str | None = None, device_id: str | None = None, station_id: str | None = None,
    evidence: dict[str, Any] | None = None, reason: dict[str, str] | None = None,
    finding_id: int | None = None, trigger: str | None = None,
) -> Alert:  # fmt: skip
    """A freshly opened alert (its escalation is planned by :mod:`alerts.escalation`)."""
    if priority not in PRIORITIES:
        raise TransitionError(f"priority must be high, medium or low, not {priority!r}")
    return Alert(
        id=alert_id, subject=subject, kind=kind, category=spec.category, priority=priority,
        latched=spec.latched, opened_at=at, updated_at=at, resident_id=resident_id,
        device_id=device_id, station_id=station_id, evidence=dict(evidence or {}),
        reason=dict(reason or {}), last_seen_at=at,
        finding_ids=() if finding_id is None else (finding_id,), trigger=trigger,
    )  # fmt: skip


def repeat(
    alert: Alert, *, priority: Priority, at: float, evidence: dict[str, Any] | None = None,
    reason: dict[str, str] | None = None, finding_id: int | None = None,
) -> Alert:  # fmt: skip
    """The condition was seen again: count it, take the newest evidence, and raise the
    priority if the repeat is worse (it is never lowered while the alert is open)."""
    _require_open(alert, "repeat")
    raised = priority if RANK[priority] > RANK[alert.priority] else alert.priority
    ids = alert.finding_ids if finding_id is None else (*alert.finding_ids[-49:], finding_id)
    return replace(
        alert, count=alert.count + 1, priority=raised, updated_at=at, last_seen_at=at,
        evidence={**alert.evidence, **(evidence or {})}, reason=dict(reason or alert.reason),
        finding_ids=ids, condition_cleared_at=None, clear_reason=None,
    )  # fmt: skip


def acknowledge(alert: Alert, actor: str, at: float) -> Alert:
    """A person takes responsibility: escalation stops."""
    if not is_person(actor):
        raise TransitionError("an alert is acknowledged by a person, not by the system")
    if alert.state != "open":
        raise TransitionError(f"alert {alert.id} is {alert.state}, cannot acknowledge")
    return replace(
        alert, state="acknowledged", acked_by=actor, acked_at=at, updated_at=at,
        next_deadline=None, assigned_to=alert.assigned_to or actor,
    )  # fmt: skip


def assign(alert: Alert, actor: str, assignee: str, at: float) -> Alert:
    """Hand the alert to someone (it stays in its state)."""
    if not is_person(actor) or not is_person(assignee):
        raise TransitionError("assign names a person who assigns and a person assigned")
    _require_open(alert, "assign")
    return replace(alert, assigned_to=assignee, updated_at=at)


def resolve(alert: Alert, actor: str, outcome: str, at: float, note: str | None = None) -> Alert:
    """A person closes the alert with an outcome (from open or acknowledged)."""
    if not is_person(actor):
        raise TransitionError("an alert is resolved by a person; the system only self-clears")
    if outcome not in PERSON_OUTCOMES:
        raise TransitionError(f"outcome must be one of {', '.join(PERSON_OUTCOMES)}")
    _require_open(alert, "resolve")
    return replace(
        alert, state="resolved", resolved_by=actor, resolved_at=at, updated_at=at,
        outcome=outcome, note=note, next_deadline=None,
    )  # fmt: skip


def condition_cleared(alert: Alert, reason: dict[str, str], at: float) -> Alert:
    """The condition is over. A non-latched alert nobody acknowledged resolves itself
    (outcome ``self_cleared``, the reason kept); otherwise the alert stays as it is and
    only records that the condition cleared, for the person who will resolve it."""
    _require_open(alert, "clear")
    if alert.latched or alert.state == "acknowledged":
        return replace(alert, condition_cleared_at=at, clear_reason=dict(reason), updated_at=at)
    return replace(
        alert, state="resolved", resolved_by=SYSTEM, resolved_at=at, outcome="self_cleared",
        condition_cleared_at=at, clear_reason=dict(reason), updated_at=at, next_deadline=None,
    )  # fmt: skip


def _require_open(alert: Alert, what: str) -> None:
    if alert.state == "resolved":
        raise TransitionError(f"alert {alert.id} is resolved, cannot {what}")
