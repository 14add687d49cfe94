"""The alert engine: findings in; alerts, escalation rounds, commands and timeline out.

It ties the pure pieces (:mod:`alerts.state`, :mod:`alerts.rules`,
:mod:`alerts.escalation`, :mod:`alerts.recipients`) to the store. Every step is written
in **one transaction** (the alert, its timeline entries and the notification rows of the
round it fired), and only then is the in-memory copy updated, so the store is always the
truth. Time is always an argument (``now``): the engine never reads a clock.

Methods return :data:`Effect` values for the I/O runner (:mod:`alerts.runner`): a
notification row that is due (:class:`NotificationDue`) or a command to publish
(:class:`~alerts.commands.CommandOut`). Listeners (:meth:`AlertEngine.add_listener`) get an
:class:`AlertEvent` after each change (the dashboard's stream).

Restart safety: :meth:`AlertEngine.recover` reloads unresolved alerts, silences and
policies, then fires what fell due while the hub was down. A round is fired when it is
written with the alert's updated ``steps_fired``/``repeats_fired`` in the same transaction,
and outbox keys are unique, so no round is forgotten and none is sent twice.

The engine is thread-safe (one lock): the runner calls it from worker threads.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from alerts import escalation as esc
from alerts import state as st
from alerts.commands import CommandOut, command_device, help_coming
from alerts.directory import Directory
from alerts.notify import OutMessage, channel_id, redact
from alerts.recipients import recipients
from alerts.rules import Facts, Silence, suppression
from alerts.storms import STORM_KIND, covers, storm_keys
from alerts.templates import render
from hub.errors import NotFound
from hub.store.base import (
    AlertChanges,
    AlertRow,
    NotificationRow,
    SilenceRow,
    Store,
    TimelineRow,
)

log = logging.getLogger(__name__)

RETRY_DELAYS_S: tuple[float, ...] = (2.0, 5.0, 15.0, 60.0, 300.0)
"""Back-off between attempts of one notification; after the last, it is marked failed."""
CHANNEL_DOWN_AFTER = 3
"""Consecutive failed attempts on one channel that raise a ``channel_down`` alert."""


class FindingLike(Protocol):
    """A finding as the engine reads it (:class:`hub.store.base.FindingRow` fits)."""

    @property
    def device_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def at(self) -> float: ...
    @property
    def evidence(self) -> Mapping[str, Any]: ...
    @property
    def reason(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class NotificationDue:
    row: NotificationRow


Effect = NotificationDue | CommandOut


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One change of one alert, for listeners (the dashboard's stream)."""

    action: str
    alert: st.Alert
    entries: tuple[TimelineRow, ...] = ()


@dataclass(frozen=True, slots=True)
class _Step:
    """What one engine step writes and returns (collected, then committed together)."""

    alerts: list[st.Alert]
    timeline: list[TimelineRow]
    notifications: list[NotificationRow]
    updates: list[NotificationRow]
    effects: list[Effect]
    events: list[tuple[str, st.Alert]]


def _new_step() -> _Step:
    return _Step([], [], [], [], [], [])


def to_row(a: st.Alert) -> AlertRow:
    return AlertRow(
        a.id, a.key, a.kind, a.state, a.priority, a.category, a.opened_at, a.updated_at,
        a.resident_id, a.device_id, a.station_id, a.next_deadline, a.to_dict(),
    )  # fmt: skip


def from_row(row: AlertRow) -> st.Alert:
    return st.Alert.from_dict(row.data)


class AlertEngine:
    """See the module docstring. ``new_id`` makes alert and command ids (tests pass a
    counter); ``link_base`` prefixes links in messages (``https://hub/alerts``)."""

    def __init__(
        self, store: Store, directory: Directory, *,
        default_policy: esc.EscalationPolicy | None = None,
        new_id: Callable[[str], str] | None = None, link_base: str | None = None,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        channel_down_after: int = CHANNEL_DOWN_AFTER,
    ) -> None:  # fmt: skip
        self.store = store
        self.directory = directory
        self.default_policy = default_policy or esc.default_policy()
        self._new_id = new_id or (lambda prefix: f"{prefix}-{uuid.uuid4().hex[:16]}")
        self.link_base = link_base.rstrip("/") if link_base else None
        self.retry_delays_s = tuple(retry_delays_s)
        self.channel_down_after = channel_down_after
        self._lock = threading.RLock()
        self._open: dict[str, st.Alert] = {}  # key -> unresolved alert
        self._by_id: dict[str, str] = {}  # id -> key, unresolved only
        self._commands: dict[str, str] = {}  # command id -> alert id
        self._silences: list[Silence] = []
        self._policies: dict[str, esc.EscalationPolicy] = {}
        self._channel_failures: dict[str, int] = {}
        self._listeners: list[Callable[[AlertEvent], None]] = []

    # --- lifecycle ------------------------------------------------------------------------

    def recover(self, now: float) -> list[Effect]:
        """Load state from the store, then fire what fell due while nobody was running.
        Returns the effects: overdue rounds and every pending notification already due."""
        with self._lock:
            self._open.clear()
            self._by_id.clear()
            for row in self.store.unresolved_alerts():
                a = from_row(row)
                self._remember(a)
            self.reload_rules()
            effects = self.tick(now)
            queued = {e.row.key for e in effects if isinstance(e, NotificationDue)}
            for n in self.store.alert_notifications(states=["pending"], due_before=now):
                if n.key not in queued:
                    effects.append(NotificationDue(n))
            return effects

    def reload_rules(self) -> None:
        """Re-read silences and escalation policies from the store."""
        with self._lock:
            self._silences = [_silence(r) for r in self.store.list_silences()]
            policies = {}
            for station_id, data in self.store.escalation_policies().items():
                policies[station_id] = esc.parse_policy(data)
            self._policies = policies

    def add_listener(self, listener: Callable[[AlertEvent], None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[AlertEvent], None]) -> None:
        self._listeners.remove(listener)

    # --- inputs -----------------------------------------------------------------------------

    def on_finding(
        self, finding: FindingLike, now: float, *, resident_id: str | None = None,
        finding_id: int | None = None,
    ) -> list[Effect]:  # fmt: skip
        """Open, update, clear or suppress an alert for one finding. ``resident_id`` and
        ``finding_id`` default to the finding's own (a ``FindingRow`` carries both)."""
        resident_id = resident_id or getattr(finding, "resident_id", None)
        finding_id = finding_id if finding_id is not None else getattr(finding, "id", None)
        with self._lock:
            step = _new_step()
            device = self.directory.device(finding.device_id)
            if resident_id is None and device is not None:
                resident_id = device.resident_id
            cleared = st.cleared_kinds(finding.kind, finding.evidence.get("clears"))
            if cleared:
                for kind in cleared:
                    subject = self._subject(kind, resident_id, finding.device_id)
                    alert = self._open.get(f"{subject}|{kind}")
                    if alert is not None:
                        self._clear(step, alert, dict(finding.reason), finding.kind, now)
            else:
                self._raise(step, finding, device, resident_id, finding_id, now)
            return self._commit(step)

    def tick(self, now: float) -> list[Effect]:
        """Fire escalation rounds that are due and lift suppressions that expired."""
        with self._lock:
            step = _new_step()
            for current in list(self._open.values()):
                alert = current
                if alert.suppressed and alert.suppressed.startswith(("silence:", "maintenance:")):
                    alert = self._resuppress(step, alert, now)
                if (
                    alert.state == "open" and not alert.suppressed
                    and alert.next_deadline is not None and alert.next_deadline <= now
                ):  # fmt: skip
                    self._stage(step, self._escalate(step, alert, now))
            return self._commit(step)

    def next_wakeup(self) -> float | None:
        """The earliest escalation deadline or pending notification (the runner sleeps
        until then, or until it is woken by new work)."""
        with self._lock:
            times = [
                a.next_deadline for a in self._open.values()
                if a.next_deadline is not None and a.state == "open" and not a.suppressed
            ]  # fmt: skip
            pending = self.store.alert_notifications(states=["pending"], limit=1)
            times += [n.due_at for n in pending]
            return min(times, default=None)

    def on_reply(self, device_id: str, command_id: str, status: str, at: float) -> bool:
        """Record a device's reply to a command; False when no alert sent that command."""
        with self._lock:
            alert_id = self._commands.get(command_id)
            if alert_id is None:
                return False
            alert = self._get(alert_id)
            step = _new_step()
            updated = replace(alert, command_status=status, updated_at=at)
            self._stage(step, updated)
            self._log(step, updated, at, f"device:{device_id}", "command_reply",
                      {"command_id": command_id, "status": status})  # fmt: skip
            step.events.append(("command_reply", updated))
            self._commit(step)
            return True

    # --- commands from people (the dashboard) ---------------------------------------------

    def acknowledge(
        self, alert_id: str, actor: str, now: float, note: str | None = None
    ) -> list[Effect]:
        """Someone takes responsibility: escalation stops, pending messages are cancelled,
        and the resident's device is told that help is coming."""
        with self._lock:
            alert = self._get(alert_id)
            acked = st.acknowledge(alert, actor, now)
            step = _new_step()
            self._log(step, acked, now, actor, "acknowledged", {"note": note} if note else {})
            self._cancel_pending(step, acked, now)
            acked = self._command(step, acked, now)
            self._stage(step, acked)
            step.events.append(("acknowledged", acked))
            return self._commit(step)

    def assign(self, alert_id: str, actor: str, assignee: str, now: float) -> st.Alert:
        with self._lock:
            alert = st.assign(self._get(alert_id), actor, assignee, now)
            step = _new_step()
            self._stage(step, alert)
            self._log(step, alert, now, actor, "assigned", {"assignee": assignee})
            step.events.append(("assigned", alert))
            self._commit(step)
            return alert

    def resolve(
        self, alert_id: str, actor: str, outcome: str, now: float, note: str | None = None
    ) -> st.Alert:
        with self._lock:
            alert = st.resolve(self._get(alert_id), actor, outcome, now, note)
            step = _new_step()
            self._log(step, alert, now, actor, "resolved", {"outcome": outcome, "note": note})
            self._cancel_pending(step, alert, now)
            self._stage(step, alert)
            step.events.append(("resolved", alert))
            self._commit(step)
            return alert

    def comment(self, alert_id: str, actor: str, text: str, now: float) -> TimelineRow:
        """Add a comment to any alert, resolved or not."""
        if not st.is_person(actor) or not text.strip():
            raise st.TransitionError("a comment has a person as author and some text")
        with self._lock:
            alert = self._get(alert_id)
            step = _new_step()
            self._log(step, alert, now, actor, "comment", {"text": text})
            step.events.append(("comment", alert))
            self._commit(step)
            return step.timeline[0]

    def add_silence(self, silence: Silence, now: float) -> list[Effect]:
        """Store a silence (or maintenance window) and apply it to open alerts at once."""
        with self._lock:
            self.store.add_silence(_silence_row(silence))
            self._silences.append(silence)
            return self.tick(now) + self._apply_silence(silence, now)

    def cancel_silence(self, silence_id: str, actor: str, now: float) -> list[Effect]:
        with self._lock:
            self.store.cancel_silence(silence_id, now, actor)
            self.reload_rules()
            return self.tick(now)

    def set_policy(self, policy: esc.EscalationPolicy, now: float) -> None:
        with self._lock:
            self.store.set_escalation_policy(policy.station_id, policy.model_dump(), now)
            self._policies[policy.station_id] = policy

    # --- queries ------------------------------------------------------------------------------

    def get_alert(self, alert_id: str) -> st.Alert:
        return self._get(alert_id)

    def list_alerts(
        self, *, station_id: str | None = None, states: Sequence[str] | None = None,
        priority: str | None = None, resident_id: str | None = None,
        category: str | None = None, kind: str | None = None, limit: int = 100,
    ) -> list[st.Alert]:  # fmt: skip
        rows = self.store.list_alerts(
            station_id=station_id, states=states, priority=priority, resident_id=resident_id,
            category=category, kind=kind, limit=limit,
        )  # fmt: skip
        return [from_row(r) for r in rows]

    def timeline(
        self, *, alert_id: str | None = None, resident_id: str | None = None, limit: int = 1_000
    ) -> list[TimelineRow]:
        return self.store.alert_timeline(alert_id=alert_id, resident_id=resident_id, limit=limit)

    def silences(self, active_at: float | None = None) -> list[SilenceRow]:
        return self.store.list_silences(active_at=active_at)

    def open_alerts(self) -> list[st.Alert]:
        with self._lock:
            return list(self._open.values())

    # --- notifications (called by the runner) -------------------------------------------

    def due_notifications(self, now: float, limit: int = 1_000) -> list[NotificationRow]:
        return self.store.alert_notifications(states=["pending"], due_before=now, limit=limit)

    def message_for(self, row: NotificationRow) -> OutMessage:
        """The text and webhook payload for one outbox row, rendered at send time."""
        alert = self._get(row.alert_id)
        resident = self.directory.resident(alert.resident_id) if alert.resident_id else None
        station = self.directory.station(alert.station_id) if alert.station_id else None
        place = (resident.address if resident else None) or (station.name if station else None)
        link = f"{self.link_base}/{alert.id}" if self.link_base else None
        repeat = int(row.round[1:]) if row.round.startswith("r") else 0
        title, body = render(
            alert, row.language, resident=resident.name if resident else None, place=place,
            link=link, repeat=repeat,
        )  # fmt: skip
        payload = {
            "idempotency_key": row.key, "round": row.round, "target": row.target,
            "title": title, "body": body, "language": row.language, "link": link,
            "alert": {k: v for k, v in alert.to_dict().items() if k not in _PRIVATE},
        }  # fmt: skip
        return OutMessage(row.key, title, body, row.language, payload)

    def notification_result(
        self, row: NotificationRow, now: float, error: str | None = None
    ) -> list[Effect]:
        """Record one attempt. A failure is retried with back-off until the schedule runs
        out; a channel failing ``channel_down_after`` times in a row raises a technical
        alert, cleared by its next success."""
        with self._lock:
            step = _new_step()
            attempts = row.attempts + 1
            ch = channel_id(row.channel)
            detail: dict[str, Any] = {
                "key": row.key, "channel": redact(row.channel), "target": row.target,
                "round": row.round, "attempt": attempts,
            }  # fmt: skip
            retry_effects: list[Effect] = []
            channel_event: str | None = None
            if error is None:
                done = replace(row, state="sent", attempts=attempts, sent_at=now, updated_at=now,
                               last_error=None)  # fmt: skip
                step.updates.append(done)
                self._log_id(step, row.alert_id, now, st.SYSTEM, "notified", detail)
                self._channel_failures.pop(ch, None)
                channel_event = "channel_up"
            else:
                retry = attempts <= len(self.retry_delays_s)
                due = now + self.retry_delays_s[attempts - 1] if retry else row.due_at
                failed = replace(row, state="pending" if retry else "failed", attempts=attempts,
                                 last_error=error[:500], due_at=due, updated_at=now)  # fmt: skip
                step.updates.append(failed)
                if retry:
                    retry_effects.append(NotificationDue(failed))
                detail |= {"error": error[:500], "retry_at": due if retry else None}
                self._log_id(step, row.alert_id, now, st.SYSTEM, "notify_failed", detail)
                count = self._channel_failures.get(ch, 0) + 1
                self._channel_failures[ch] = count
                if count >= self.channel_down_after:
                    channel_event = "channel_down"
            effects = self._commit(step) + retry_effects
            if channel_event is not None:
                effects += self._channel_finding(row, channel_event, now, error)
            return effects

    # --- internals: opening, clearing, escalating -----------------------------------------

    def _subject(self, kind: str, resident_id: str | None, device_id: str) -> str:
        spec = st.spec_for(kind)
        return resident_id if spec.category == "clinical" and resident_id else device_id

    def _raise(
        self, step: _Step, f: FindingLike, device: Any, resident_id: str | None,
        finding_id: int | None, now: float,
    ) -> None:  # fmt: skip
        kind = st.alert_kind(f.kind)
        spec = st.spec_for(kind)
        resident = self.directory.resident(resident_id) if resident_id else None
        station_id = resident.station_id if resident else None
        if station_id is None and isinstance(named := f.evidence.get("station_id"), str):
            station_id = named  # a finding about a whole station (a connectivity storm)
        subject = self._subject(kind, resident_id, f.device_id)
        priority = f.priority if f.priority in st.PRIORITIES else "medium"
        facts = Facts(
            kind, spec, resident_id, f.device_id, station_id,
            resident_status=resident.status if resident else None,
            gateway_id=device.gateway_id if device is not None else None,
        )  # fmt: skip
        reason = suppression(facts, offline_gateways=self._offline(), silences=self._silences,
                             at=now, storms=storm_keys(self._open.values()))  # fmt: skip
        existing = self._open.get(f"{subject}|{kind}")
        evidence = dict(f.evidence)
        if existing is None:
            alert = st.new_alert(
                self._new_id("al"), spec, subject=subject, kind=kind, priority=priority, at=now,
                resident_id=resident_id, device_id=f.device_id, station_id=station_id,
                evidence=evidence, reason=dict(f.reason), finding_id=finding_id,
            )  # fmt: skip
            alert = replace(alert, suppressed=reason)
            self._log(step, alert, now, st.SYSTEM, "opened", {
                "finding": f.kind, "finding_id": finding_id, "priority": priority,
                "suppressed": reason, "evidence": evidence,
            })  # fmt: skip
            if reason is None:
                alert = self._restart(alert, now)
            step.events.append(("opened", alert))
            if kind == "device_offline" and device is not None and device.kind == "gateway":
                self._hide_children(step, f.device_id, now)
            if kind == STORM_KIND:
                self._hide_in_storm(step, alert, now)
        else:
            alert = st.repeat(existing, priority=priority, at=now, evidence=evidence,
                              reason=dict(f.reason), finding_id=finding_id)  # fmt: skip
            self._log(step, alert, now, st.SYSTEM, "repeated", {
                "finding": f.kind, "finding_id": finding_id, "count": alert.count,
                "evidence": evidence,
            })  # fmt: skip
            raised = alert.priority != existing.priority
            if raised:
                self._log(step, alert, now, st.SYSTEM, "priority_raised",
                          {"from": existing.priority, "to": alert.priority})  # fmt: skip
            if reason != existing.suppressed:
                alert = replace(alert, suppressed=reason)
                action = "suppressed" if reason else "unsuppressed"
                self._log(step, alert, now, st.SYSTEM, action, {"reason": reason})
                if reason:
                    alert = replace(alert, next_deadline=None)
                    self._cancel_pending(step, alert, now)
            if alert.state == "open" and not alert.suppressed and (raised or existing.suppressed):
                alert = self._restart(alert, now)
            step.events.append(("updated", alert))
        if alert.state == "open" and not alert.suppressed:
            alert = self._escalate(step, alert, now)
        self._stage(step, alert)

    def _restart(self, alert: st.Alert, now: float) -> st.Alert:
        """Escalation (re)starts from ``now`` with the plan of the alert's priority."""
        plan = self._policy(alert.station_id).for_priority(alert.priority)
        due = esc.next_deadline(plan, base=now, steps_fired=0, repeats_fired=0)
        return replace(alert, escalation_base=now, steps_fired=0, repeats_fired=0,
                       next_deadline=due)  # fmt: skip

    def _escalate(self, step: _Step, alert: st.Alert, now: float) -> st.Alert:
        """Fire the rounds due by ``now``: outbox rows plus one timeline entry per round."""
        policy = self._policy(alert.station_id)
        plan = policy.for_priority(alert.priority)
        base = alert.escalation_base if alert.escalation_base is not None else alert.opened_at
        firings = esc.due_firings(plan, base=base, steps_fired=alert.steps_fired,
                                  repeats_fired=alert.repeats_fired, now=now)  # fmt: skip
        if not firings:
            return alert
        timezone, contacts = "Asia/Shanghai", []
        if alert.station_id and (station := self.directory.station(alert.station_id)):
            timezone = station.timezone
        if alert.resident_id and alert.category == "clinical":
            contacts = self.directory.contacts(alert.resident_id)
        for firing in firings:
            chosen, skipped = recipients(
                firing.targets, policy=policy, contacts=contacts, priority=alert.priority,
                at=now, timezone=timezone,
            )  # fmt: skip
            if alert.category == "technical" and esc.FAMILY in firing.targets:
                skipped = [s for s in skipped if s.target != esc.FAMILY]
            for r in chosen:
                row = NotificationRow(
                    f"{alert.id}:{firing.tag}:{channel_id(r.channel)}", alert.id, firing.tag,
                    r.target, r.channel, now, now, r.contact_id, r.language, updated_at=now,
                )  # fmt: skip
                step.notifications.append(row)
                step.effects.append(NotificationDue(row))
            self._log(step, alert, now, st.SYSTEM, "escalated", {
                "round": firing.tag, "targets": list(firing.targets), "due_at": firing.due_at,
                "channels": [redact(r.channel) for r in chosen],
                "skipped": [{"target": s.target, "contact": s.contact_id, "reason": s.reason}
                            for s in skipped],
            })  # fmt: skip
        steps, repeats = esc.fired_counts(firings, alert.steps_fired, alert.repeats_fired)
        due = esc.next_deadline(plan, base=base, steps_fired=steps, repeats_fired=repeats)
        escalated = replace(alert, steps_fired=steps, repeats_fired=repeats, next_deadline=due)
        step.events.append(("escalated", escalated))
        return escalated

    def _clear(
        self, step: _Step, alert: st.Alert, reason: dict[str, str], finding: str, now: float
    ) -> None:
        cleared = st.condition_cleared(alert, reason, now)
        action = "self_cleared" if cleared.state == "resolved" else "condition_cleared"
        self._log(step, cleared, now, st.SYSTEM, action, {"finding": finding, "reason": reason})
        if cleared.state == "resolved":
            self._cancel_pending(step, cleared, now)
        self._stage(step, cleared)
        step.events.append((action, cleared))

    def _resuppress(self, step: _Step, alert: st.Alert, now: float) -> st.Alert:
        """Re-check an alert muted by a silence; unmute and start escalating if it ended."""
        facts = self._facts(alert)
        reason = suppression(facts, offline_gateways=self._offline(), silences=self._silences,
                             at=now, storms=storm_keys(self._open.values()))  # fmt: skip
        if reason == alert.suppressed:
            return alert
        updated = replace(alert, suppressed=reason, updated_at=now)
        self._log(step, updated, now, st.SYSTEM, "unsuppressed" if reason is None else "suppressed",
                  {"reason": reason, "was": alert.suppressed})  # fmt: skip
        if reason is None and updated.state == "open":
            updated = self._restart(updated, now)
        self._stage(step, updated)
        step.events.append(("updated", updated))
        return updated

    def _apply_silence(self, silence: Silence, now: float) -> list[Effect]:
        step = _new_step()
        for alert in list(self._open.values()):
            if alert.suppressed:
                continue
            f = self._facts(alert)
            if silence.matches(at=now, resident_id=f.resident_id, device_id=f.device_id,
                               kind=f.kind, station_id=f.station_id,
                               category=alert.category):  # fmt: skip
                tag = "maintenance" if silence.technical_only else "silence"
                muted = replace(alert, suppressed=f"{tag}:{silence.id}", next_deadline=None,
                                updated_at=now)  # fmt: skip
                self._log(step, muted, now, st.SYSTEM, "suppressed", {"reason": muted.suppressed})
                self._cancel_pending(step, muted, now)
                self._stage(step, muted)
                step.events.append(("updated", muted))
        return self._commit(step)

    def _hide_children(self, step: _Step, gateway_id: str, now: float) -> None:
        """The gateway went offline: its sub-devices' offline alerts are inhibited."""
        for alert in list(self._open.values()):
            if alert.kind != "device_offline" or alert.suppressed or alert.device_id is None:
                continue
            device = self.directory.device(alert.device_id)
            if device is None or device.gateway_id != gateway_id:
                continue
            muted = replace(alert, suppressed=f"gateway_offline:{gateway_id}", next_deadline=None)
            self._log(step, muted, now, st.SYSTEM, "suppressed", {"reason": muted.suppressed})
            self._cancel_pending(step, muted, now)
            self._stage(step, muted)

    def _hide_in_storm(self, step: _Step, storm: st.Alert, now: float) -> None:
        """A connectivity storm opened: offline alerts already open in its place are
        inhibited too (they are part of it)."""
        key = storm_keys([storm])[0]
        for alert in list(self._open.values()):
            if alert.kind != "device_offline" or alert.suppressed or alert.id == storm.id:
                continue
            if not covers(key, self._facts(alert)):
                continue
            muted = replace(alert, suppressed=f"{STORM_KIND}:{key}", next_deadline=None)
            self._log(step, muted, now, st.SYSTEM, "suppressed", {"reason": muted.suppressed})
            self._cancel_pending(step, muted, now)
            self._stage(step, muted)

    def _command(self, step: _Step, alert: st.Alert, now: float) -> st.Alert:
        """Tell the resident's wearable that help is coming (clinical alerts only)."""
        if alert.category != "clinical" or alert.device_id is None:
            return alert
        device = self.directory.device(alert.device_id)
        worn = self.directory.resident_devices(alert.resident_id) if alert.resident_id else []
        target = command_device(device, worn)
        if target is None:
            return alert
        cmd = help_coming(target, alert.id, self._new_id("cmd"), now)
        step.effects.append(cmd)
        self._commands[cmd.command_id] = alert.id
        self._log(step, alert, now, st.SYSTEM, "command_sent", {
            "command_id": cmd.command_id, "device_id": target.id, "pattern": "help_coming",
        })  # fmt: skip
        return replace(alert, command_id=cmd.command_id, command_status="sent")

    def _channel_finding(
        self, row: NotificationRow, kind: str, now: float, error: str | None
    ) -> list[Effect]:
        """A technical finding about a notification channel (down, or back up)."""
        alert = self._open.get(f"channel:{channel_id(row.channel)}|channel_down")
        if kind == "channel_up" and alert is None:
            return []
        origin = self._maybe(row.alert_id)
        f = _ChannelFinding(
            device_id=f"channel:{channel_id(row.channel)}", kind=kind, priority="medium", at=now,
            evidence={"channel": redact(row.channel), "target": row.target,
                      "last_error": (error or "")[:200]},
            reason={"zh-CN": f"通知渠道 {redact(row.channel)} 连续发送失败",
                    "en": f"Notification channel {redact(row.channel)} keeps failing"},
        )  # fmt: skip
        return self.on_finding(f, now, resident_id=origin.resident_id if origin else None)

    def _cancel_pending(self, step: _Step, alert: st.Alert, now: float) -> None:
        pending = self.store.alert_notifications(alert_id=alert.id, states=["pending"])
        staged = {n.key for n in step.notifications}
        for n in pending:
            if n.key not in staged:
                step.updates.append(replace(n, state="cancelled", updated_at=now))
        step.notifications[:] = [n for n in step.notifications if n.alert_id != alert.id]
        step.effects[:] = [
            e for e in step.effects if not (isinstance(e, NotificationDue) and e.row.alert_id
                                            == alert.id)
        ]  # fmt: skip

    # --- internals: bookkeeping -----------------------------------------------------------

    def _policy(self, station_id: str | None) -> esc.EscalationPolicy:
        if station_id and station_id in self._policies:
            return self._policies[station_id]
        return self._policies.get(esc.DEFAULT_STATION, self.default_policy)

    def _offline(self) -> set[str]:
        return {a.subject for a in self._open.values() if a.kind == "device_offline"}

    def _facts(self, alert: st.Alert) -> Facts:
        resident = self.directory.resident(alert.resident_id) if alert.resident_id else None
        device = self.directory.device(alert.device_id) if alert.device_id else None
        return Facts(
            alert.kind, st.spec_for(alert.kind), alert.resident_id, alert.device_id,
            alert.station_id, resident.status if resident else None,
            device.gateway_id if device else None,
        )  # fmt: skip

    def _maybe(self, alert_id: str) -> st.Alert | None:
        try:
            return self._get(alert_id)
        except NotFound:
            return None

    def _get(self, alert_id: str) -> st.Alert:
        key = self._by_id.get(alert_id)
        if key is not None:
            return self._open[key]
        return from_row(self.store.get_alert(alert_id))

    def _remember(self, alert: st.Alert) -> None:
        if alert.is_open:
            self._open[alert.key] = alert
            self._by_id[alert.id] = alert.key
        else:
            if self._by_id.get(alert.id) == alert.key:
                self._open.pop(alert.key, None)
            self._by_id.pop(alert.id, None)
        if alert.command_id:
            self._commands[alert.command_id] = alert.id

    def _stage(self, step: _Step, alert: st.Alert) -> st.Alert:
        step.alerts[:] = [a for a in step.alerts if a.id != alert.id]
        step.alerts.append(alert)
        return alert

    def _log(
        self, step: _Step, alert: st.Alert, at: float, actor: str, action: str,
        detail: dict[str, Any],
    ) -> None:  # fmt: skip
        step.timeline.append(TimelineRow(alert.id, at, actor, action, detail, alert.resident_id))

    def _log_id(
        self, step: _Step, alert_id: str, at: float, actor: str, action: str,
        detail: dict[str, Any],
    ) -> None:  # fmt: skip
        origin = self._maybe(alert_id)
        resident = origin.resident_id if origin else None
        step.timeline.append(TimelineRow(alert_id, at, actor, action, detail, resident))

    def _commit(self, step: _Step) -> list[Effect]:
        """Write the step in one transaction, then update memory and tell listeners."""
        if not (step.alerts or step.timeline or step.notifications or step.updates):
            return list(step.effects)
        self.store.write_alert_changes(AlertChanges(
            alerts=[to_row(a) for a in step.alerts], timeline=step.timeline,
            notifications=step.notifications, notification_updates=step.updates,
        ))  # fmt: skip
        for a in step.alerts:
            self._remember(a)
        latest = {a.id: a for a in step.alerts}
        for action, alert in step.events:
            event = AlertEvent(
                action,
                latest.get(alert.id, alert),
                tuple(t for t in step.timeline if t.alert_id == alert.id),
            )
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("alert listener %r failed", listener)
        return list(step.effects)


_PRIVATE = frozenset({"finding_ids", "escalation_base", "steps_fired", "repeats_fired"})


@dataclass(frozen=True, slots=True)
class _ChannelFinding:
    device_id: str
    kind: str
    priority: str
    at: float
    evidence: dict[str, Any]
    reason: dict[str, str]


def _silence(r: SilenceRow) -> Silence:
    return Silence(
        r.id, r.start, r.end, r.author, r.reason, r.resident_id, r.device_id, r.kind,
        r.station_id, r.technical_only, r.created_at, r.cancelled_at,
    )  # fmt: skip


def _silence_row(s: Silence) -> SilenceRow:
    return SilenceRow(
        s.id, s.start, s.end, s.author, s.reason, s.created_at, s.resident_id, s.device_id,
        s.kind, s.station_id, s.technical_only, s.cancelled_at,
    )  # fmt: skip
