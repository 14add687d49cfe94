"""Alert rows, their timeline, the notification outbox, silences and escalation policies.
The engine in ``alerts/`` owns their meaning; the store keeps rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert as stored. ``data`` is the whole alert (``alerts.state.Alert.to_dict``);
    the other fields are copies for queries."""

    id: str
    key: str
    """``subject|kind``; at most one unresolved alert per key (enforced by the store)."""
    kind: str
    state: str
    priority: str
    category: str
    opened_at: float
    updated_at: float
    resident_id: str | None = None
    device_id: str | None = None
    station_id: str | None = None
    next_deadline: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    trigger: str | None = None
    """The finding that opened it (:func:`finding_key`); unique among all alerts, resolved
    or not, so the same finding never opens two (see :meth:`Store.write_alert_changes`)."""
    version: int = 0
    """The stored row's version as it was read (1 for a new alert, one more at each update);
    0 for an alert not stored yet. Written back, it says which version the change is
    based on (see :meth:`Store.write_alert_changes`)."""


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """An append-only entry: a transition, a notification attempt, a command, a comment."""

    alert_id: str
    at: float
    actor: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)
    resident_id: str | None = None
    id: int | None = None
    """Assigned by the store."""


NotificationState = Literal["pending", "sent", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """One message to one channel (the outbox). ``key`` is its idempotency key."""

    key: str
    alert_id: str
    round: str
    target: str
    channel: str
    due_at: float
    created_at: float
    contact_id: str | None = None
    language: str = "zh-CN"
    state: NotificationState = "pending"
    attempts: int = 0
    last_error: str | None = None
    updated_at: float | None = None
    sent_at: float | None = None
    version: int = 0
    """The stored row's version as it was read (1 once inserted, one more at each update); 0
    for a row not stored yet. An update is written only over it, as an alert's is (see
    :meth:`Store.write_alert_changes`)."""


@dataclass(frozen=True, slots=True)
class SilenceRow:
    """A silence or a maintenance window (``technical_only``); see ``alerts.rules``."""

    id: str
    start: float
    end: float
    author: str
    reason: str
    created_at: float
    resident_id: str | None = None
    device_id: str | None = None
    kind: str | None = None
    station_id: str | None = None
    technical_only: bool = False
    cancelled_at: float | None = None
    cancelled_by: str | None = None


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """Everything one step of the alert engine writes, in one transaction."""

    alerts: Sequence[AlertRow] = ()
    """Inserted (``version`` 0) or updated compare-and-set on ``version``."""
    timeline: Sequence[TimelineRow] = ()
    """Appended."""
    notifications: Sequence[NotificationRow] = ()
    """New outbox rows; a key already present is left as it is (never sent twice)."""
    notification_updates: Sequence[NotificationRow] = ()
    """Existing outbox rows: state, attempts, last_error, due_at, updated_at, sent_at;
    compare-and-set on ``version``."""
    handled_findings: Sequence[int] = ()
    """Findings this step took in: ``handled_at`` is set (once) in the same transaction."""
    handled_at: float | None = None


@runtime_checkable
class AlertStore(Protocol):
    """One engine step in one transaction; alert queries."""

    def write_alert_changes(self, changes: AlertChanges) -> None:
        """Write one engine step in one transaction. An alert of ``version`` 0 is inserted;
        any other is updated only if the stored row still has that version, which the
        update moves on by one; so is an outbox row of ``notification_updates``. Writing
        nothing, raises :class:`~hub.errors.AlertConflict` naming the alerts and outbox
        rows whose row moved on since (another process wrote them), Conflict when an alert
        would be a second unresolved alert for its key, and
        :class:`~hub.errors.AlertExists` when a new alert's trigger already opened another
        one: the same finding taken in twice."""
        ...

    def get_alert(self, alert_id: str) -> AlertRow:
        """Raises NotFound."""
        ...

    def list_alerts(
        self, *, station_id: str | None = None, states: Sequence[str] | None = None,
        priority: str | None = None, resident_id: str | None = None,
        category: str | None = None, kind: str | None = None, limit: int = 100,
    ) -> list[AlertRow]:  # fmt: skip
        """Newest first (by opened_at)."""
        ...

    def unresolved_alerts(self) -> list[AlertRow]:
        """Every alert that is open or acknowledged (the engine reloads them at start)."""
        ...

    def alert_timeline(
        self, *, alert_id: str | None = None, resident_id: str | None = None,
        since: float | None = None, limit: int = 1_000,
    ) -> list[TimelineRow]:  # fmt: skip
        """Oldest first (by time, then order of writing)."""
        ...

    def alert_notifications(
        self, *, alert_id: str | None = None, states: Sequence[str] | None = None,
        due_before: float | None = None, limit: int = 1_000,
    ) -> list[NotificationRow]:  # fmt: skip
        """By due time, then key."""
        ...

    def get_notification(self, key: str) -> NotificationRow:
        """One outbox row by its key, as stored now. Raises NotFound."""
        ...

    def notifications_by_key(self, keys: Sequence[str]) -> list[NotificationRow]:
        """The outbox rows of ``keys`` as stored now, in one read (unknown keys are left
        out), by key."""
        ...

    def notifications_of_alerts(self, alert_ids: Sequence[str]) -> list[NotificationRow]:
        """Every outbox row of the alerts ``alert_ids`` as stored now, in one read, by key."""
        ...

    def add_silence(self, silence: SilenceRow) -> None:
        """Raises Conflict when the id exists."""
        ...

    def cancel_silence(self, silence_id: str, at: float, by: str) -> None:
        """Raises NotFound."""
        ...

    def list_silences(
        self, *, active_at: float | None = None, include_cancelled: bool = False
    ) -> list[SilenceRow]:
        """By start time. ``active_at``: only those in force then (started, not ended, not
        cancelled by then); otherwise those not cancelled, or all with ``include_cancelled``."""
        ...

    def set_escalation_policy(self, station_id: str, policy: dict[str, Any], at: float) -> None:
        """Insert or replace a station's policy (validated by ``alerts.escalation``)."""
        ...

    def escalation_policies(self) -> dict[str, dict[str, Any]]:
        """Station id → policy data."""
        ...
