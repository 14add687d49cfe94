"""The alert engine's I/O side: loads what the pure core needs, commits its plans in one
transaction each, and tells listeners.

The decisions are :class:`~alerts.core.AlertCore`'s (plain values in, a
:class:`~alerts.plan.Plan` out). :class:`AlertEngine` **loads** what a step needs — registry
entries through the cached :class:`~alerts.directory.Directory`, stored alerts the core no
longer keeps — outside its lock, and when the core says something is missing
(:class:`~alerts.plan.NeedData`) loads exactly that and asks again; it **commits** each plan
with :meth:`Store.write_alert_changes` (alerts, timeline entries, outbox rows and the
findings taken in, in one transaction), and only then hands it back to the core and to the
listeners (:meth:`add_listener`: :class:`AlertEvent` values for the dashboard's stream); it
**returns** the plan's effects to the runner (:mod:`alerts.runner`): due outbox rows
(:class:`NotificationDue`) and device commands (:class:`~alerts.commands.CommandOut`).
Deciding and committing happen under one lock, so steps never interleave. Time is always
an argument (``now``): the engine reads no clock.

**Other processes.** Cluster workers and dashboard nodes each run an engine over one store.
Each alert the core holds carries the version of the stored row it was read at
(:attr:`~alerts.state.Alert.version`), and so does each outbox row; the store updates
either only where it still has that version. When another process changed one of a step's
alerts or outbox rows meanwhile, the store writes nothing of the step and raises
:class:`~hub.errors.AlertConflict`; the engine reads those alerts and their outbox again,
in place of its copy, and decides the step anew (at most :data:`MAX_CONFLICTS` times): an
escalation due on an alert acknowledged elsewhere does not happen, an acknowledgement
decided on a copy from before an escalation round is made on the alert as escalated,
cancelling that round's messages too, and a delivery result for a message cancelled
meanwhile leaves it cancelled (:mod:`alerts.delivery`). The runner sends a message only
once :meth:`AlertEngine.claim` finds it still unsent in the store. :meth:`remember` takes
what another process committed: its alerts and their outbox.

**Restart safety.** :meth:`recover` reloads unresolved alerts, unsent outbox rows,
silences and policies, then fires what fell due meanwhile; a round is written with the
alert's round counters and outbox keys are unique, so none is forgotten or sent twice. A
finding fed again after a crash changes nothing: its id is on its open alert, and a new
alert's trigger is unique in the store (:class:`~hub.errors.AlertExists` once that alert
is resolved).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace

from alerts import escalation as esc
from alerts import state as st
from alerts.core import AlertCore
from alerts.delivery import CHANNEL_DOWN_AFTER, RETRY_DELAYS_S, ChannelFinding
from alerts.directory import Directory
from alerts.notify import OutMessage
from alerts.plan import (
    AlertEvent,
    Effect,
    FindingLike,
    Need,
    NeedData,
    NotificationDue,
    Plan,
    RewindableIds,
    World,
)
from alerts.rules import Silence
from alerts.storage import (
    WorldLoader,
    from_row,
    silence_from_row,
    silence_to_row,
    to_row,
    written,
)
from alerts.templates import message
from hub.errors import AlertConflict, AlertExists, NotFound
from hub.store.base import AlertChanges, AlertRow, NotificationRow, SilenceRow, Store, TimelineRow
from hub.timezones import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

__all__ = ["AlertEngine", "AlertEvent", "Effect", "FindingLike", "NotificationDue"]

MAX_ROUNDS = 8
"""Loads one step may ask for before it is given up (the registry is at most a few
lookups deep: device, its resident, their station and contacts)."""

MAX_CONFLICTS = 4
"""Times one step is decided again because another process changed its alerts meanwhile
(:class:`~hub.errors.AlertConflict`), each time on them as stored, before the conflict is
raised: only an alert written elsewhere again and again within milliseconds exhausts it."""


class AlertEngine:
    """See the module docstring. ``new_id`` makes alert and command ids (tests pass a
    counter); ``link_base`` prefixes links in messages (``https://hub/alerts``);
    ``default_timezone`` is the zone of stations that name none."""

    def __init__(
        self, store: Store, directory: Directory, *,
        default_policy: esc.EscalationPolicy | None = None,
        new_id: Callable[[str], str] | None = None, link_base: str | None = None,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        channel_down_after: int = CHANNEL_DOWN_AFTER,
        default_timezone: str = DEFAULT_TIMEZONE,
    ) -> None:  # fmt: skip
        self.store = store
        self.directory = directory
        self.loader = WorldLoader(store, directory)
        self.link_base = link_base.rstrip("/") if link_base else None
        self.default_timezone = default_timezone
        self._ids = RewindableIds(new_id or (lambda prefix: f"{prefix}-{uuid.uuid4().hex[:16]}"))
        self.core = AlertCore(
            new_id=self._ids, default_policy=default_policy, default_timezone=default_timezone,
            retry_delays_s=retry_delays_s, channel_down_after=channel_down_after,
        )  # fmt: skip
        self._lock = threading.RLock()
        self._listeners: list[Callable[[AlertEvent], None]] = []

    # --- lifecycle ------------------------------------------------------------------------

    def recover(self, now: float) -> list[Effect]:
        """Load state from the store, then fire what fell due while nobody was running.
        Returns the effects: overdue rounds and every pending notification already due."""
        self.load()
        effects = self.tick(now)
        queued = {e.row.key for e in effects if isinstance(e, NotificationDue)}
        with self._lock:
            due = self.core.mem.pending_rows(due_before=now)
        return effects + [NotificationDue(n) for n in due if n.key not in queued]

    def load(self) -> None:
        """Load unresolved alerts, unsent outbox rows and rules from the store, firing
        nothing (a dashboard-only node acts on alerts; a worker runs the timers)."""
        alerts = [from_row(r) for r in self.store.unresolved_alerts()]
        pending = self.store.alert_notifications(states=["pending"], limit=10_000_000)
        with self._lock:
            self.core.mem.load(alerts, pending)
        self.reload_rules()

    def remember(self, rows: Sequence[AlertRow]) -> None:
        """Alerts another process committed (a cluster worker, another dashboard node), as
        the store holds them now, with their outbox as stored (read here): the next step on
        them starts from there, an acknowledgement cancels the messages another process
        added, and the timers do not wake for those it sent or cancelled. A row older than
        the copy held (read before this engine's own later change) is left out."""
        with self._lock:
            for row in rows:
                held = self.core.mem.known(row.id)
                if held is None or held.version <= row.version:
                    self.core.mem.remember(from_row(row))
            self._take_outbox([r.id for r in rows])

    def reload_rules(self) -> None:
        """Re-read silences and escalation policies from the store."""
        silences = [silence_from_row(r) for r in self.store.list_silences()]
        policies = {k: esc.parse_policy(v) for k, v in self.store.escalation_policies().items()}
        with self._lock:
            self.core.mem.set_rules(silences, policies)

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
        device = self.directory.device(finding.device_id)
        owner = resident_id or getattr(finding, "resident_id", None)
        owner = owner or (device.resident_id if device else None)
        world = self.loader.load(World(devices={finding.device_id: device}), _about(owner))
        try:
            return self._run(lambda w: self.core.finding(
                finding, w, now, resident_id=resident_id, finding_id=finding_id
            ), now, world)  # fmt: skip
        except AlertExists as exc:
            fid = finding_id if finding_id is not None else getattr(finding, "id", None)
            return self._taken_in(exc, fid, now)

    def tick(self, now: float) -> list[Effect]:
        """Fire escalation rounds that are due and lift suppressions that expired."""
        return self._run(lambda w: self.core.tick(w, now), now)

    def next_wakeup(self) -> float | None:
        """The earliest escalation deadline or pending notification (the runner sleeps
        until then, or until it is woken by new work)."""
        with self._lock:
            return self.core.mem.next_wakeup()

    def on_reply(self, device_id: str, command_id: str, status: str, at: float) -> bool:
        """Record a device's reply to a command; False when no alert sent that command."""
        answered = False

        def decide(world: World) -> Plan:
            nonlocal answered
            plan = self.core.reply(device_id, command_id, status, at, world)
            answered = plan is not None
            return plan or Plan()

        self._run(decide, at)
        return answered

    # --- commands from people (the dashboard) ---------------------------------------------

    def acknowledge(
        self, alert_id: str, actor: str, now: float, note: str | None = None
    ) -> list[Effect]:
        """Someone takes responsibility: escalation stops, pending messages are cancelled,
        and the resident's device is told that help is coming."""
        return self._run(lambda w: self.core.acknowledge(alert_id, actor, now, note, w), now)

    def assign(self, alert_id: str, actor: str, assignee: str, now: float) -> st.Alert:
        plan = self._plan(lambda w: self.core.assign(alert_id, actor, assignee, now, w), now)
        return plan.alerts[0]

    def resolve(
        self, alert_id: str, actor: str, outcome: str, now: float, note: str | None = None
    ) -> st.Alert:
        plan = self._plan(lambda w: self.core.resolve(alert_id, actor, outcome, now, note, w), now)
        return plan.alerts[0]

    def comment(self, alert_id: str, actor: str, text: str, now: float) -> TimelineRow:
        """Add a comment to any alert, resolved or not."""
        plan = self._plan(lambda w: self.core.comment(alert_id, actor, text, now, w), now)
        return plan.timeline[0]

    def add_silence(self, silence: Silence, now: float) -> list[Effect]:
        """Store a silence (or maintenance window) and apply it to open alerts at once."""
        self.store.add_silence(silence_to_row(silence))
        with self._lock:
            self.core.mem.silences.append(silence)
        return self.tick(now) + self._run(lambda _: self.core.silence(silence, now), now)

    def cancel_silence(self, silence_id: str, actor: str, now: float) -> list[Effect]:
        self.store.cancel_silence(silence_id, now, actor)
        self.reload_rules()
        return self.tick(now)

    def set_policy(self, policy: esc.EscalationPolicy, now: float) -> None:
        self.store.set_escalation_policy(policy.station_id, policy.model_dump(), now)
        with self._lock:
            self.core.mem.policies[policy.station_id] = policy

    # --- queries ------------------------------------------------------------------------------

    def get_alert(self, alert_id: str) -> st.Alert:
        with self._lock:
            alert = self.core.mem.known(alert_id)
        return alert or from_row(self.store.get_alert(alert_id))

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
            return list(self.core.mem.open.values())

    # --- notifications (called by the runner) -------------------------------------------

    def due_notifications(self, now: float, limit: int = 1_000) -> list[NotificationRow]:
        return self.store.alert_notifications(states=["pending"], due_before=now, limit=limit)

    def claim(self, rows: Sequence[NotificationRow]) -> list[NotificationRow]:
        """Those of ``rows`` still to be sent (``pending``), as stored now, in one read: the
        runner sends only what this returns, at once, and reports each attempt on it. A row
        cancelled (staff acknowledged, perhaps on another node) or recorded since it was
        found due is left out, and the core forgets it, so the timers do not wake for it."""
        stored = {r.key: r for r in self.store.notifications_by_key([r.key for r in rows])}
        gone = [s for s in stored.values() if s.state != "pending"]
        if gone:
            with self._lock:
                self.core.mem.note_outbox(gone)  # a row never returns to pending: forget it
        return [stored[r.key] for r in rows if r.key in stored and stored[r.key].state == "pending"]

    def message_for(self, row: NotificationRow) -> OutMessage:
        """The text and webhook payload for one outbox row, rendered at send time (times in
        the alert's station's zone)."""
        alert = self.get_alert(row.alert_id)
        resident = self.directory.resident(alert.resident_id) if alert.resident_id else None
        station = self.directory.station(alert.station_id) if alert.station_id else None
        link = f"{self.link_base}/{alert.id}" if self.link_base else None
        return message(alert, row, resident=resident, station=station, link=link,
                       default_timezone=self.default_timezone)  # fmt: skip

    def notification_result(
        self, row: NotificationRow, now: float, error: str | None = None
    ) -> list[Effect]:
        """Record one attempt (:mod:`alerts.delivery`) on ``row`` as :meth:`claim` returned
        it: a failure is retried with back-off until the schedule runs out; a channel
        failing ``channel_down_after`` times in a row raises a technical alert, cleared by
        its next success. When another process changed the row meanwhile (cancelled it) the
        result is decided again on the row as stored, and a cancelled row stays so."""
        channel: ChannelFinding | None = None

        def decide(world: World) -> Plan:
            nonlocal channel
            plan, channel = self.core.attempt(row, world, now, error)
            return plan

        effects = self._run(decide, now)
        if channel is not None:
            effects += self.on_finding(channel, now)
        return effects

    # --- running one step ---------------------------------------------------------------------

    def _run(
        self, decide: Callable[[World], Plan], now: float, world: World | None = None
    ) -> list[Effect]:
        return list(self._plan(decide, now, world).effects)

    def _plan(
        self, decide: Callable[[World], Plan], now: float, world: World | None = None
    ) -> Plan:
        """Ask the core (loading what it lacks, outside the lock), then commit. A commit
        refused because another process changed one of the step's alerts since this engine
        read it (:class:`AlertConflict`: nothing was written) is decided again on those
        alerts as stored now, at most :data:`MAX_CONFLICTS` times."""
        world = world or World()
        rounds = conflicts = 0
        while True:
            with self._lock:
                self._ids.mark()
                try:
                    plan = decide(world)
                    self._commit(plan, now)
                except (NeedData, AlertConflict) as exc:
                    self._ids.rewind()  # nothing was written: the next decision reuses the ids
                    again = exc
                else:
                    return plan
            if isinstance(again, NeedData):
                rounds += 1
                if rounds == MAX_ROUNDS:
                    raise RuntimeError(
                        f"an alert step still lacked {sorted(again.needs)} after {rounds} loads"
                    )
                world = self.loader.load(world, again.needs)
            else:
                conflicts += 1
                if conflicts > MAX_CONFLICTS:
                    raise again
                log.info("%s; deciding the step again on them as stored", again)
                world = self._reread(again.alert_ids, world)

    def _reread(self, alert_ids: Sequence[str], world: World) -> World:
        """The alerts ``alert_ids`` as stored now, with their outbox (a step that cancels
        unsent messages must see those another process added, a delivery result the row as
        another process left it), in place of the core's copy; and ``world`` holding them,
        where the core looks up the resolved alerts and the rows."""
        fresh: dict[str, st.Alert | None] = {i: self.loader.read("alert", i) for i in alert_ids}
        with self._lock:
            for alert in fresh.values():
                if alert is not None:
                    self.core.mem.remember(alert)
            outbox = self._take_outbox(alert_ids)
        return replace(world, alerts={**world.alerts, **fresh},
                       notifications={**world.notifications, **outbox})  # fmt: skip

    def _take_outbox(self, alert_ids: Sequence[str]) -> dict[str, NotificationRow]:
        """Read the outbox rows of ``alert_ids`` as stored now (by key) and give the core
        their unsent ones in place of its copy. Called under the lock: the read follows
        every write of this engine's own, so none of those is undone by an older row."""
        rows = self.store.notifications_of_alerts(alert_ids)
        self.core.mem.take_outbox(alert_ids, rows)
        return {n.key: n for n in rows}

    def _commit(self, plan: Plan, now: float) -> None:
        """Write the plan in one transaction, then update the core and tell listeners."""
        if plan.writes:
            self.store.write_alert_changes(AlertChanges(
                alerts=[to_row(a) for a in plan.alerts], timeline=plan.timeline,
                notifications=plan.notifications, notification_updates=plan.updates,
                handled_findings=plan.handled, handled_at=now,
            ))  # fmt: skip
        plan.alerts[:] = [written(a) for a in plan.alerts]
        plan.notifications[:] = [written(n) for n in plan.notifications]
        plan.updates[:] = [written(n) for n in plan.updates]
        self.core.apply(plan)
        latest = {a.id: a for a in plan.alerts}
        for action, alert in plan.events:
            entries = tuple(t for t in plan.timeline if t.alert_id == alert.id)
            event = AlertEvent(action, latest.get(alert.id, alert), entries)
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("alert listener %r failed", listener)

    def _taken_in(self, exc: AlertExists, finding_id: int | None, now: float) -> list[Effect]:
        """The finding already opened an alert (it is fed again after a restart): that alert
        stands for it; nothing is opened or sent again."""
        log.info("%s: not taken in again", exc)
        if finding_id is not None:
            self.store.mark_findings_handled([finding_id], now)
        try:
            existing = from_row(self.store.get_alert(exc.alert_id))
        except NotFound:
            return []
        with self._lock:
            if existing.is_open and self.core.mem.known(existing.id) is None:
                self.core.mem.remember(existing)
        return []


def _about(resident_id: str | None) -> set[Need]:
    """What a finding about ``resident_id`` is likely to ask for."""
    return {("resident", resident_id), ("contacts", resident_id)} if resident_id else set()
