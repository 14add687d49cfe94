"""What the alert core remembers between steps (pure).

The store is the truth; :class:`Memory` is the core's copy of the part it decides from:
unresolved alerts (by ``subject|kind`` and by id), which alert sent which device command,
unsent outbox rows, silences, escalation policies and consecutive failures per channel.
It changes only through :meth:`Memory.load` (a start), :meth:`Memory.apply` (a plan the
engine committed) and :meth:`Memory.remember` / :meth:`Memory.take_outbox` /
:meth:`Memory.note_outbox` (alerts and outbox rows as the store holds them, changed by
another process), so a step that failed to commit leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from alerts import escalation as esc
from alerts.plan import Plan
from alerts.rules import Silence
from alerts.state import Alert
from alerts.storms import storm_keys
from hub.store.base import NotificationRow

OFFLINE: Final = "device_offline"


class Memory:
    """See the module docstring."""

    def __init__(self, default_policy: esc.EscalationPolicy | None = None) -> None:
        self.default_policy = default_policy or esc.default_policy()
        self.open: dict[str, Alert] = {}
        """Unresolved alerts by key (``subject|kind``)."""
        self.by_id: dict[str, str] = {}
        """Alert id -> key, unresolved alerts only."""
        self.commands: dict[str, str] = {}
        """Device command id -> alert id."""
        self.pending: dict[str, dict[str, NotificationRow]] = {}
        """Unsent outbox rows: alert id -> key -> row."""
        self.silences: list[Silence] = []
        self.policies: dict[str, esc.EscalationPolicy] = {}
        self.channel_failures: dict[str, int] = {}

    def load(self, alerts: Iterable[Alert], pending: Iterable[NotificationRow]) -> None:
        """Start over from stored state: unresolved alerts and unsent outbox rows."""
        self.open.clear()
        self.by_id.clear()
        self.pending.clear()
        for a in alerts:
            self.remember(a)
        self.note_outbox(pending)

    def set_rules(
        self, silences: Iterable[Silence], policies: dict[str, esc.EscalationPolicy]
    ) -> None:
        self.silences = list(silences)
        self.policies = dict(policies)

    def apply(self, plan: Plan) -> None:
        """The plan was committed: make it this memory's state."""
        for a in plan.alerts:
            self.remember(a)
        self.note_outbox([*plan.notifications, *plan.updates])
        for ch, count in plan.failures.items():
            if count:
                self.channel_failures[ch] = count
            else:
                self.channel_failures.pop(ch, None)

    def remember(self, alert: Alert) -> None:
        """Keep an unresolved alert; forget a resolved one (its command is still known)."""
        if alert.is_open:
            self.open[alert.key] = alert
            self.by_id[alert.id] = alert.key
        else:
            if self.by_id.get(alert.id) == alert.key:
                self.open.pop(alert.key, None)
            self.by_id.pop(alert.id, None)
        if alert.command_id:
            self.commands[alert.command_id] = alert.id

    def note_outbox(self, rows: Iterable[NotificationRow]) -> None:
        """Outbox rows as they now stand: an unsent one is kept, any other forgotten."""
        for n in rows:
            held = self.pending.setdefault(n.alert_id, {})
            if n.state == "pending":
                held[n.key] = n
            else:
                held.pop(n.key, None)
            if not held:
                del self.pending[n.alert_id]

    def take_outbox(self, alert_ids: Iterable[str], rows: Iterable[NotificationRow]) -> None:
        """The whole outbox of ``alert_ids`` as stored now (``rows``, in any state), in place
        of what this memory held of it: another process added, sent or cancelled messages."""
        for alert_id in alert_ids:
            self.pending.pop(alert_id, None)
        self.note_outbox(rows)

    # --- reading --------------------------------------------------------------------------

    def known(self, alert_id: str) -> Alert | None:
        """The unresolved alert ``alert_id``, or None (resolved or unknown)."""
        key = self.by_id.get(alert_id)
        return self.open[key] if key is not None else None

    def pending_of(self, alert_id: str) -> list[NotificationRow]:
        return list(self.pending.get(alert_id, {}).values())

    def pending_rows(self, due_before: float | None = None) -> list[NotificationRow]:
        """Every unsent outbox row (due by ``due_before`` when given), in due order."""
        rows = [n for by_key in self.pending.values() for n in by_key.values()]
        due = [n for n in rows if due_before is None or n.due_at <= due_before]
        return sorted(due, key=lambda n: (n.due_at, n.key))

    def next_wakeup(self) -> float | None:
        """The earliest escalation deadline or unsent message."""
        times = [
            a.next_deadline for a in self.open.values()
            if a.next_deadline is not None and a.state == "open" and not a.suppressed
        ]  # fmt: skip
        times += [n.due_at for by_key in self.pending.values() for n in by_key.values()]
        return min(times, default=None)

    def policy(self, station_id: str | None) -> esc.EscalationPolicy:
        """The station's escalation policy, else the ``"*"`` one, else the default."""
        if station_id and station_id in self.policies:
            return self.policies[station_id]
        return self.policies.get(esc.DEFAULT_STATION, self.default_policy)

    def offline_devices(self) -> set[str]:
        """Subjects of the open ``device_offline`` alerts (gateways among them)."""
        return {a.subject for a in self.open.values() if a.kind == OFFLINE}

    def storms(self) -> list[str]:
        """Places of the open connectivity storms (:func:`alerts.storms.storm_keys`)."""
        return storm_keys(self.open.values())
