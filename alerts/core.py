"""The alert engine's pure core: findings and people's commands in, a plan of steps out.

:class:`AlertCore` keeps what the engine must know between steps — the unresolved alerts,
the unsent outbox rows, the silences and escalation policies, failures per channel — and
decides each step from it, from the input and from a :class:`~alerts.plan.World` holding
the registry entries the step needs. It returns a :class:`~alerts.plan.Plan` (alerts,
timeline entries and outbox rows to write in one transaction; notifications due and device
commands; events for listeners) and changes nothing until the engine hands the committed
plan back to :meth:`AlertCore.apply`. A step that lacks a registry entry raises
:class:`~alerts.plan.NeedData` before deciding anything.

No I/O, no clock (``now`` is an argument), no threads: :mod:`alerts.engine` loads, commits
and serialises. The rules it applies live in :mod:`alerts.state` (lifecycle),
:mod:`alerts.rules` and :mod:`alerts.muting` (who is not told), :mod:`alerts.rounds` and
:mod:`alerts.escalation` (who is told when), :mod:`alerts.people` (acknowledge, resolve...)
and :mod:`alerts.delivery` (what became of a message).

**A finding is taken in once.** An alert keeps the ids of the findings it took in, so a
finding fed again (after a restart) leaves an open alert as it is; and it keeps the finding
that opened it (:attr:`~alerts.state.Alert.trigger`: device, rule and event time), which
the store holds unique, so such a finding cannot open a second alert once the first is
resolved (:mod:`alerts.engine`).

>>> from hub.store.base import Device, FindingRow
>>> core = AlertCore(new_id=lambda prefix: f"{prefix}-1")
>>> sos = FindingRow(None, "w-1", "sos", "high", 100.0, 100.0, id=7)
>>> plan = core.finding(sos, World(devices={"w-1": Device("w-1", "wearable")}), 100.0)
>>> [(a.kind, a.state) for a in plan.alerts], plan.handled
([('sos', 'open')], [7])
>>> core.apply(plan)
>>> again = core.finding(sos, World(devices={"w-1": None}), 101.0)  # the same finding
>>> again.alerts, again.handled
([], [7])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from alerts import escalation as esc
from alerts import muting, people, rounds
from alerts import state as st
from alerts.delivery import CHANNEL_DOWN_AFTER, RETRY_DELAYS_S, ChannelFinding, attempt
from alerts.delivery import channel_finding as channel_finding_of
from alerts.memory import Memory
from alerts.notify import channel_id
from alerts.plan import FindingLike, Lookup, Plan, World
from alerts.rules import Facts, Silence, suppression
from alerts.storms import STORM_KIND
from hub.errors import NotFound
from hub.store.base import Contact, NotificationRow, finding_key
from hub.timezones import DEFAULT_TIMEZONE


class AlertCore:
    """See the module docstring. ``new_id(prefix)`` makes alert and command ids;
    ``default_timezone`` is the zone of stations that name none."""

    def __init__(
        self, *, new_id: Callable[[str], str], default_policy: esc.EscalationPolicy | None = None,
        default_timezone: str = DEFAULT_TIMEZONE, retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        channel_down_after: int = CHANNEL_DOWN_AFTER,
    ) -> None:  # fmt: skip
        self.new_id = new_id
        self.default_timezone = default_timezone
        self.retry_delays_s = tuple(retry_delays_s)
        self.channel_down_after = channel_down_after
        self.mem = Memory(default_policy)

    def apply(self, plan: Plan) -> None:
        """The engine committed ``plan``: it becomes the core's state."""
        self.mem.apply(plan)

    # --- findings ----------------------------------------------------------------------------

    def finding(
        self, f: FindingLike, world: World, now: float, *, resident_id: str | None = None,
        finding_id: int | None = None,
    ) -> Plan:  # fmt: skip
        """Open, update, clear or suppress an alert for one finding. ``resident_id`` and
        ``finding_id`` default to the finding's own (a ``FindingRow`` carries both)."""
        look, out = Lookup(world), Plan()
        resident_id = resident_id or getattr(f, "resident_id", None)
        finding_id = finding_id if finding_id is not None else getattr(f, "id", None)
        device = look.device(f.device_id)
        if resident_id is None and device is not None:
            resident_id = device.resident_id
        cleared = st.cleared_kinds(f.kind, f.evidence.get("clears"))
        for kind in cleared:
            alert = self.mem.open.get(f"{_subject(kind, resident_id, f.device_id)}|{kind}")
            if alert is not None:
                self._clear(out, alert, dict(f.reason), f.kind, now)
        if not cleared:
            self._raise(out, look, f, resident_id, finding_id, now)
        look.check()
        if finding_id is not None:
            out.handled.append(finding_id)
        return out

    def _raise(
        self, out: Plan, look: Lookup, f: FindingLike, resident_id: str | None,
        finding_id: int | None, now: float,
    ) -> None:  # fmt: skip
        kind = st.alert_kind(f.kind)
        spec = st.spec_for(kind)
        device = look.device(f.device_id)
        resident = look.resident(resident_id) if resident_id else None
        station_id = resident.station_id if resident else None
        if station_id is None and isinstance(named := f.evidence.get("station_id"), str):
            station_id = named  # a finding about a whole station (a connectivity storm)
        subject = _subject(kind, resident_id, f.device_id)
        priority = f.priority if f.priority in st.PRIORITIES else "medium"
        existing = self.mem.open.get(f"{subject}|{kind}")
        if existing is not None and finding_id is not None and finding_id in existing.finding_ids:
            return  # taken in before (fed again after a restart): nothing changes
        facts = Facts(kind, spec, resident_id, f.device_id, station_id,
                      resident_status=resident.status if resident else None,
                      gateway_id=device.gateway_id if device is not None else None)  # fmt: skip
        reason = suppression(facts, offline_gateways=self.mem.offline_devices(),
                             silences=self.mem.silences, at=now,
                             storms=self.mem.storms())  # fmt: skip
        evidence = dict(f.evidence)
        if existing is None:
            trigger = None
            if not isinstance(f, ChannelFinding):  # the hub's own findings are never replayed
                trigger = finding_key(f.device_id, f.kind, f.at, evidence.get("condition"))
            alert = st.new_alert(
                self.new_id("al"), spec, subject=subject, kind=kind, priority=priority, at=now,
                resident_id=resident_id, device_id=f.device_id, station_id=station_id,
                evidence=evidence, reason=dict(f.reason), finding_id=finding_id, trigger=trigger,
            )  # fmt: skip
            alert = replace(alert, suppressed=reason)
            out.log(alert, now, st.SYSTEM, "opened", {
                "finding": f.kind, "finding_id": finding_id, "priority": priority,
                "suppressed": reason, "evidence": evidence,
            })  # fmt: skip
            if reason is None:
                alert = rounds.restart(alert, self.mem.policy(station_id), now)
            out.event("opened", alert)
            if kind == "device_offline" and device is not None and device.kind == "gateway":
                muting.hide_children(out, self.mem, look, f.device_id, now)
            if kind == STORM_KIND:
                muting.hide_in_storm(out, self.mem, look, alert, now)
        else:
            alert = self._repeat(out, existing, f, finding_id, priority, reason, now)
        if alert.state == "open" and not alert.suppressed:
            alert = self._escalate(out, look, alert, now)
        out.stage(alert)

    def _repeat(
        self, out: Plan, existing: st.Alert, f: FindingLike, finding_id: int | None,
        priority: st.Priority, reason: str | None, now: float,
    ) -> st.Alert:  # fmt: skip
        evidence = dict(f.evidence)
        alert = st.repeat(existing, priority=priority, at=now, evidence=evidence,
                          reason=dict(f.reason), finding_id=finding_id)  # fmt: skip
        out.log(alert, now, st.SYSTEM, "repeated", {
            "finding": f.kind, "finding_id": finding_id, "count": alert.count,
            "evidence": evidence,
        })  # fmt: skip
        raised = alert.priority != existing.priority
        if raised:
            out.log(alert, now, st.SYSTEM, "priority_raised",
                    {"from": existing.priority, "to": alert.priority})  # fmt: skip
        if reason != existing.suppressed:
            alert = replace(alert, suppressed=reason)
            out.log(alert, now, st.SYSTEM, "suppressed" if reason else "unsuppressed",
                    {"reason": reason})  # fmt: skip
            if reason:
                alert = replace(alert, next_deadline=None)
                self._cancel_pending(out, alert, now)
        if alert.state == "open" and not alert.suppressed and (raised or existing.suppressed):
            alert = rounds.restart(alert, self.mem.policy(alert.station_id), now)
        out.event("updated", alert)
        return alert

    def _clear(
        self, out: Plan, alert: st.Alert, reason: dict[str, str], finding: str, now: float
    ) -> None:
        cleared = st.condition_cleared(alert, reason, now)
        action = "self_cleared" if cleared.state == "resolved" else "condition_cleared"
        out.log(cleared, now, st.SYSTEM, action, {"finding": finding, "reason": reason})
        if cleared.state == "resolved":
            self._cancel_pending(out, cleared, now)
        out.stage(cleared)
        out.event(action, cleared)

    # --- time and rules ---------------------------------------------------------------------

    def tick(self, world: World, now: float) -> Plan:
        """Fire escalation rounds that are due and lift silences that ended."""
        look, out = Lookup(world), Plan()
        for current in list(self.mem.open.values()):
            alert = current
            if alert.suppressed and alert.suppressed.startswith(("silence:", "maintenance:")):
                alert = muting.resuppress(out, self.mem, look, alert, now)
            if (
                alert.state == "open" and not alert.suppressed
                and alert.next_deadline is not None and alert.next_deadline <= now
            ):  # fmt: skip
                out.stage(self._escalate(out, look, alert, now))
        look.check()
        return out

    def silence(self, silence: Silence, now: float) -> Plan:
        """A silence was stored: remember it and mute the open alerts it matches."""
        out = Plan()
        muting.apply_silence(out, self.mem, silence, now)
        return out

    def _escalate(self, out: Plan, look: Lookup, alert: st.Alert, now: float) -> st.Alert:
        """Fire the alert's due rounds, in its station's time zone, to its family too."""
        station = look.station(alert.station_id) if alert.station_id else None
        timezone = (station.timezone if station else None) or self.default_timezone
        contacts: Sequence[Contact] = ()
        if alert.resident_id and alert.category == "clinical":
            contacts = look.contacts(alert.resident_id)
        return rounds.escalate(out, alert, policy=self.mem.policy(alert.station_id),
                               contacts=contacts, timezone=timezone, now=now)  # fmt: skip

    def _cancel_pending(self, out: Plan, alert: st.Alert, now: float) -> None:
        rounds.cancel_pending(out, alert, self.mem.pending_of(alert.id), now)

    # --- people and devices (alerts.people) --------------------------------------------

    def get(self, alert_id: str, look: Lookup) -> st.Alert:
        """An alert by id: from memory when unresolved, else from the world."""
        alert = self.mem.known(alert_id) or look.alert(alert_id)
        if alert is None:
            raise NotFound(f"alert {alert_id!r}")
        return alert

    def acknowledge(
        self, alert_id: str, actor: str, now: float, note: str | None, world: World
    ) -> Plan:
        look = Lookup(world)
        out = people.acknowledge(self.get(alert_id, look), actor, now, note, mem=self.mem,
                                 look=look, new_id=self.new_id)  # fmt: skip
        look.check()
        return out

    def assign(self, alert_id: str, actor: str, assignee: str, now: float, world: World) -> Plan:
        return people.assign(self.get(alert_id, Lookup(world)), actor, assignee, now)

    def resolve(
        self, alert_id: str, actor: str, outcome: str, now: float, note: str | None,
        world: World,
    ) -> Plan:  # fmt: skip
        alert = self.get(alert_id, Lookup(world))
        return people.resolve(alert, actor, outcome, now, note, mem=self.mem)

    def comment(self, alert_id: str, actor: str, text: str, now: float, world: World) -> Plan:
        people.check_comment(actor, text)
        return people.comment(self.get(alert_id, Lookup(world)), actor, text, now)

    def reply(
        self, device_id: str, command_id: str, status: str, at: float, world: World
    ) -> Plan | None:
        """A device answered a command; None when no alert sent that command."""
        alert_id = self.mem.commands.get(command_id)
        if alert_id is None:
            return None
        alert = self.get(alert_id, Lookup(world))
        return people.reply(alert, device_id, command_id, status, at)

    # --- notification attempts -------------------------------------------------------------

    def attempt(
        self, row: NotificationRow, world: World, now: float, error: str | None = None
    ) -> tuple[Plan, ChannelFinding | None]:
        """Record one delivery attempt (:mod:`alerts.delivery`) on ``row`` as it was claimed
        for sending, or as the world holds it when read again since (it may have been
        cancelled meanwhile). Also returns the finding about the row's channel to take in
        next, when its health is news."""
        row = world.notifications.get(row.key, row)
        origin = self.mem.known(row.alert_id) or Lookup(world).alert(row.alert_id)
        ch = channel_id(row.channel)
        out, event = attempt(
            row, origin, failures=self.mem.channel_failures.get(ch, 0), now=now, error=error,
            retry_delays_s=self.retry_delays_s, channel_down_after=self.channel_down_after,
        )  # fmt: skip
        if event is None or (
            event == "channel_up" and f"channel:{ch}|channel_down" not in self.mem.open
        ):
            return out, None
        resident = origin.resident_id if origin else None
        return out, channel_finding_of(row, event, now, error, resident)


def _subject(kind: str, resident_id: str | None, device_id: str) -> str:
    spec = st.spec_for(kind)
    return resident_id if spec.category == "clinical" and resident_id else device_id
