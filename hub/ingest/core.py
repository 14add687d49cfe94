"""The ingest core: one message in, rows, refusals and acknowledgements out. No I/O.

:class:`Ingest` turns each inbound MQTT message into rows for the store (collected in a
pending batch), error reports to publish back to the device, acknowledgements to send
once the batch is committed, and :class:`Accepted` observations for the detectors. The
asynchronous side (:mod:`hub.runtime.pipeline`) moves batches to the store and sends what this
module decided.

Order of checks, each refusal with its code (see docs/device-contract.md): topic → rate
(per publisher: the device, or the gateway for everything under its topics, before any
registry lookup, so a flood costs the same whatever ids it names) → device registered and
enabled → sub-device on that gateway → size, encoding, JSON, schema, plausibility → ``seq``
(duplicates dropped silently) → clock skew, a door event without ``door`` (warnings). An
empty payload is how MQTT deletes a retained message: it is taken as that, not refused.

What a hostile or broken device can make the hub keep is bounded: a dead letter holds at most
a prefix of the payload (:meth:`DeadLetter.bounded`); refusals that come in floods
(``rate_limited``, ``unknown_device``) keep one dead letter per report, at most one per
publisher and code in :data:`~hub.contract.limits.REPORT_INTERVAL_S`, which says how many
more were refused meanwhile (``suppressed``); a gateway gets
:data:`~hub.contract.limits.UNCLAIMED_PER_GATEWAY` unknown ids listed per hour; a retained
message refused once is not refused (and kept) again when the broker replays it.
Numbers missing from a device's ``seq`` are counted once certainly lost
(:mod:`hub.ingest.gaps`), in ``carehub_telemetry_gaps_total`` and the device's state.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from hub.contract import limits, models
from hub.contract.codes import ErrorCode, WarningCode
from hub.contract.topics import Topic, errors_topic_for, is_outbound, parse_topic
from hub.ingest.dedup import SeqWindow
from hub.ingest.gaps import SeqGaps
from hub.ingest.ratelimit import TokenBucket
from hub.ingest.skew import ClockOffset
from hub.ingest.validate import Refusal, decode
from hub.metrics import HubMetrics
from hub.store.base import (
    VITAL_FIELDS,
    CommandReplyRow,
    DeadLetter,
    Device,
    DeviceState,
    EventRow,
    IngestBatch,
    StatusChange,
    TelemetryRow,
)

log = logging.getLogger(__name__)

StatusSource = Literal["birth", "will", "shutdown", "silence"]
_UNSEEN: Any = object()
_TOPIC_CACHE = 200_000
"""Parsed topics remembered (each device publishes on the same few topics)."""

REPORT_INTERVAL_S = limits.REPORT_INTERVAL_S
"""At most one error report per publisher and code in this many seconds (no amplification)."""
FLOOD_CODES = frozenset(
    {ErrorCode.RATE_LIMITED.value, ErrorCode.UNKNOWN_DEVICE.value, ErrorCode.TOPIC_INVALID.value}
)
"""Refusals that keep a dead letter only with their report: they come in floods, and each
one would otherwise cost a row (and the vendor learns nothing more from the ten-thousandth)."""
_BOUNDED = 100_000
"""Entries of a per-publisher table before it is emptied (a flood of made-up ids)."""
_DIRECT = "\x00direct"
"""Key of the devices that are not a gateway's in the unclaimed quotas (no id has a NUL)."""
UNCLAIMED_WINDOW_S = 3600.0
"""How long the unknown ids listed for one gateway count against its quota."""
WARN_REPORT_INTERVAL_S = 3600.0
"""At most one warning report (clock skew, unnamed door) per device and code in this time."""
DOOR_UNNAMED_DETAIL = (
    "door event without `door`: taken for an interior door, never for the way out; name the "
    "contact (front, bedroom, bathroom, cupboard...)"
)


class InboundLike(Protocol):
    """What the MQTT adapter hands over (``hub.mqtt.adapter.Inbound``)."""

    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def qos(self) -> int: ...
    @property
    def retain(self) -> bool: ...
    @property
    def received_at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Accepted:
    """A stored message, as the detectors and the alert engine see it."""

    device: Device
    msg_type: str
    message: Any
    """The validated model: Telemetry, an event model, Status or Reply."""
    received_at: float
    gateway_id: str | None = None
    clock_offset_s: float | None = None
    retained: bool = False
    """A retained copy the broker replayed on (re)subscribing (status messages)."""


class Origin(NamedTuple):
    """Where a stored row came from, for when the store refuses it (see
    :mod:`hub.runtime.poison`): the message, to keep as a dead letter, and what the observers
    would be told of it."""

    message: Any
    accepted: Accepted | None


@dataclass(frozen=True, slots=True)
class Outbound:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    droppable: bool = False
    """An error report: dropped (and counted) rather than delay a command to a device."""


@dataclass(slots=True)
class Pending:
    """Work decided by :class:`Ingest` since the last :meth:`Ingest.take`."""

    telemetry: list[TelemetryRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    status: list[StatusChange] = field(default_factory=list)
    replies: list[CommandReplyRow] = field(default_factory=list)
    seen: dict[str, DeviceState] = field(default_factory=dict)
    unprovisioned: list[tuple[str, str, float, str | None]] = field(default_factory=list)
    acks: list[Any] = field(default_factory=list)
    """Alarm-class inbound messages (and refusals) to acknowledge once committed."""
    telemetry_acks: list[Any] = field(default_factory=list)
    """Telemetry to acknowledge once committed: it travels with the bulk batch."""
    outbox: list[Outbound] = field(default_factory=list)
    """Error reports to publish once the batch is committed."""
    accepted: list[Accepted] = field(default_factory=list)
    origins: dict[int, Origin] = field(default_factory=dict)
    """``id()`` of each telemetry, event, status and reply row → its :class:`Origin`. By
    identity because rows hold dicts (not hashable); the rows live in this batch's lists, so
    their ids stay unique while the batch is in flight."""
    urgent: bool = False
    """Holds an alarm-class message: flush without waiting for the batch to fill."""

    def rows(self) -> int:
        return len(self.telemetry) + len(self.events) + len(self.dead_letters) + len(self.status)

    def empty(self) -> bool:
        """Nothing to write, acknowledge or publish."""
        return not (self.rows() or self.acks or self.telemetry_acks or self.outbox or self.seen)

    def split(self) -> tuple[Pending, Pending]:
        """Alarm-class work (events, status, refusals, replies, their acks and reports) and
        the bulk telemetry, so an alarm is written in a small transaction of its own instead
        of waiting inside a large telemetry batch.

        The urgent part updates the last-seen state of its own devices only: the others'
        go with the telemetry, because the telemetry batch before it may still hold their
        rows locked (that wait was most of an SOS's time in the store, measured with
        ``bench/ws.py``). Those updates only ever move forward, so their order is free."""
        alarm = [a for a in self.accepted if a.msg_type != "telemetry"]
        own = {a.device.id for a in alarm}
        own.update(e.device_id for e in self.events)
        own.update(s.device_id for s in self.status)
        own.update(r.device_id for r in self.replies)
        urgent = Pending(
            events=self.events,
            dead_letters=self.dead_letters,
            status=self.status,
            replies=self.replies,
            seen={d: s for d, s in self.seen.items() if d in own},
            unprovisioned=self.unprovisioned,
            acks=self.acks,
            outbox=self.outbox,
            accepted=alarm,
            origins=self.origins,
            urgent=True,
        )
        bulk = Pending(
            telemetry=self.telemetry,
            telemetry_acks=self.telemetry_acks,
            seen={d: s for d, s in self.seen.items() if d not in own},
            accepted=[a for a in self.accepted if a.msg_type == "telemetry"],
            origins=self.origins,
        )
        return urgent, bulk

    def batch(self) -> IngestBatch:
        return IngestBatch(
            telemetry=self.telemetry,
            events=self.events,
            dead_letters=self.dead_letters,
            status=self.status,
            replies=self.replies,
            seen=list(self.seen.values()),
            unprovisioned=self.unprovisioned,
        )


class Ingest:
    """Validates, deduplicates and batches device messages. Not thread-safe: one task
    calls :meth:`handle` and :meth:`take`."""

    def __init__(
        self,
        *,
        metrics: HubMetrics | None = None,
        clock: Callable[[], float],
        rate_per_s: float = limits.RATE_PER_S,
        rate_burst: int = limits.RATE_BURST,
        seq_window: int = limits.SEQ_WINDOW,
        skew_threshold_s: float = limits.CLOCK_SKEW_WARN_S,
    ) -> None:
        self.metrics = metrics or HubMetrics()
        self.clock = clock
        self.rate_per_s = rate_per_s
        self.rate_burst = rate_burst
        self.seq_window = seq_window
        self.skew_threshold_s = skew_threshold_s
        self.devices: dict[str, Device] = {}
        self.ack_now: list[Any] = []
        self.last_refused: str | None = None
        """The code the last :meth:`handle` refused its message with (``None``: not refused),
        whether or not a dead letter was kept."""
        """Messages to acknowledge at once (telemetry, echoes): drained by the pipeline."""
        self._pending = Pending()
        self._windows: dict[str, SeqWindow] = {}
        self._gaps: dict[str, SeqGaps] = {}
        self._gappy: set[str] = set()  # devices with holes not yet settled
        self._buckets: dict[str, TokenBucket] = {}
        self._backlogs: dict[str, TokenBucket] = {}  # on the device's clock; see _from_backlog
        self._offsets: dict[str, ClockOffset] = {}
        self._live: dict[str, _Live] = {}
        self._touched: set[str] = set()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._topics: dict[str, Any] = {}
        self._reported: dict[tuple[str, str], float] = {}
        self._suppressed: Counter[tuple[str, str]] = Counter()
        self._unclaimed: dict[str, tuple[float, set[str]]] = {}
        """Gateway id → (start of its window, unknown sub-device ids listed in it)."""
        self._refused_retained: dict[tuple[str, int], None] = {}
        """(topic, hash of payload) of retained messages refused once (insertion-ordered)."""

    # --- set-up --------------------------------------------------------------------------

    def set_devices(self, devices: Iterable[Device]) -> None:
        """Replace the registry snapshot (refreshed periodically from the store)."""
        self.devices = {d.id: d for d in devices}

    def seed(self, states: Iterable[DeviceState], recent: Mapping[str, list[int]]) -> None:
        """Restore per-device state after a restart, so duplicates are still caught."""
        for st in states:
            self._live[st.device_id] = _Live.of(st)
            self._gap(st.device_id).seed(st.last_seq)
        for device_id, seqs in recent.items():
            self._window(device_id).seed(seqs)

    # --- per message ---------------------------------------------------------------------

    def handle(self, msg: InboundLike) -> None:
        """Process one message; never raises for anything a device can send."""
        self.last_refused = None
        try:
            self._handle(msg)
        except Exception:  # a bug must not stop ingestion; keep the message
            log.exception("ingest failed on a message from %s", msg.topic)
            self._refuse(
                msg, None, Refusal(ErrorCode.INTERNAL_ERROR, "the hub failed on this message")
            )

    def take(self) -> Pending:
        """Hand over the pending work and start a new batch."""
        self._settle_gaps()
        pending, self._pending = self._pending, Pending()
        pending.seen = {d: self._live[d].freeze(d) for d in self._touched}
        self._touched.clear()
        self.flush_counts()
        return pending

    def flush_counts(self) -> None:
        # Counted in plain ints per message and handed to prometheus once per batch: a
        # labelled prometheus increment costs more than validating a small message.
        m = self.metrics
        for (kind, label), n in self._counts.items():
            if kind == "in":
                m.messages_in.labels(label).inc(n)
            elif kind == "ok":
                m.accepted.labels(label).inc(n)
            elif kind == "refused":
                m.refused.labels(label).inc(n)
            elif kind == "dead":
                m.dead_letters.inc(n)
            elif kind == "not_kept":
                m.dead_letters_dropped.labels(label).inc(n)
            elif kind == "cleared":
                m.retained_cleared.inc(n)
            elif kind == "unclaimed":
                m.unclaimed_not_listed.inc(n)
            elif kind == "dup":
                m.duplicates.inc(n)
            elif kind == "warn":
                m.warnings.labels(label).inc(n)
            elif kind == "gap":
                m.telemetry_gaps.inc(n)
            elif kind == "late":
                m.telemetry_late.inc(n)
        self._counts.clear()

    @property
    def pending(self) -> Pending:
        return self._pending

    def _handle(self, msg: InboundLike) -> None:
        topic = msg.topic
        if is_outbound(topic):  # our own cmd/errors echoed back by the broker
            self._ack(msg, now=True)
            return
        parsed = self._topics.get(topic, _UNSEEN)
        if parsed is _UNSEEN:
            parsed = parse_topic(topic)
            if len(self._topics) >= _TOPIC_CACHE:
                self._topics.clear()  # bounded: a flood of made-up topics cannot grow it
            self._topics[topic] = parsed
        self._counts["in", parsed.msg_type if parsed else "invalid"] += 1
        if parsed is None:
            self._bad_topic(msg)
            return
        if not msg.payload:  # MQTT's way to delete a retained message: nothing to keep
            self._counts["cleared", ""] += 1
            self._ack(msg, now=True)
            return
        admitted = self._within_rate(msg, parsed)
        device = None if admitted is None else self._authorise(msg, parsed)
        if device is None:
            return
        decoded = decode(parsed.msg_type, msg.payload, now=msg.received_at)
        if not admitted and not self._from_backlog(msg, parsed, decoded):
            owner = parsed.gateway_id or parsed.device_id
            self._refuse(msg, parsed, Refusal(ErrorCode.RATE_LIMITED, _rate_help(owner, self)))
            return
        if isinstance(decoded, Refusal):
            self._refuse(msg, parsed, decoded)
            return
        if parsed.msg_type == "status":
            self._status(msg, parsed, device, decoded)
        elif parsed.msg_type == "reply":
            self._reply(msg, device, decoded)
        else:
            self._data(msg, parsed, device, decoded)

    def _bad_topic(self, msg: InboundLike) -> None:
        """Refuse a message on a topic outside the contract; within its owner's rate when
        the topic still names one (a device can vary the rest of its own topic freely)."""
        owner = _owner_of(msg.topic)
        if owner is None or self._allow(owner, msg.received_at):
            self._refuse(msg, None, Refusal(ErrorCode.TOPIC_INVALID, _topic_help(msg.topic)))
        else:
            self._refuse(msg, None, Refusal(ErrorCode.RATE_LIMITED, _rate_help(owner, self)))

    def _within_rate(self, msg: InboundLike, parsed: Topic) -> bool | None:
        """Whether a message is within its publisher's rate (the gateway for its whole tree,
        else the device); None when it is over and refused. Checked before the registry so
        that made-up ids cost no more than real ones. False: over the rate, but a QoS 1
        message of a registered device, which may be a backlog (:meth:`_from_backlog`)."""
        owner = parsed.gateway_id or parsed.device_id
        if self._allow(owner, msg.received_at):
            return True
        if msg.qos > 0 and parsed.device_id in self.devices:  # a broker held it, maybe
            return False
        self._refuse(msg, parsed, Refusal(ErrorCode.RATE_LIMITED, _rate_help(owner, self)))
        return None

    def _allow(self, owner: str, now: float) -> bool:
        bucket = self._buckets.get(owner)
        if bucket is None:
            if len(self._buckets) >= _BOUNDED:
                self._buckets.clear()
            bucket = self._buckets[owner] = TokenBucket(self.rate_per_s, self.rate_burst)
        return bucket.allow(now)

    def _from_backlog(self, msg: InboundLike, parsed: Topic, decoded: Any) -> bool:
        """Whether a message over its publisher's rate is history held for the hub.

        After the hub or the device was away, the broker or the device's own client delivers
        the queued QoS 1 messages in one burst. They are not a flood when the device's clock
        spent the time: a second bucket per publisher, started with one token at the first
        message over the limit and refilled by the devices' timestamps (never past the hub's
        clock, never backwards), admits them. A flood can claim only the history its clock
        has really advanced through, once.
        """
        ts = getattr(decoded, "ts", None)
        if isinstance(decoded, Refusal) or not isinstance(ts, (int, float)):
            return False
        owner = parsed.gateway_id or parsed.device_id
        bucket = self._backlogs.get(owner)
        if bucket is None:
            if len(self._backlogs) >= _BOUNDED:
                self._backlogs.clear()
            bucket = self._backlogs[owner] = TokenBucket(self.rate_per_s, self.rate_burst, 1.0)
        return bucket.allow(min(float(ts), msg.received_at))

    def _authorise(self, msg: InboundLike, parsed: Topic) -> Device | None:
        device = self.devices.get(parsed.device_id)
        gateway_id = parsed.gateway_id
        if gateway_id is not None and gateway_id != parsed.device_id:
            gateway = self.devices.get(gateway_id)
            if gateway is None or not gateway.enabled:
                self._unknown(msg, parsed, gateway_id)
                return None
            if device is not None and device.gateway_id != gateway_id:
                detail = f"device {parsed.device_id} is not registered to gateway {gateway_id}"
                self._refuse(msg, parsed, Refusal(ErrorCode.NOT_ON_GATEWAY, detail))
                return None
        if device is None or not device.enabled:
            self._unknown(msg, parsed, parsed.device_id)
            return None
        return device

    def _unknown(self, msg: InboundLike, parsed: Topic, device_id: str) -> None:
        known = self.devices.get(device_id)
        state = "disabled" if known is not None else "not provisioned"
        if known is None and self._may_list(parsed, device_id, msg.received_at):
            self._pending.unprovisioned.append(
                (device_id, msg.topic, msg.received_at, parsed.gateway_id)
            )
        detail = f"device {device_id} is {state}; ask the operator to provision it"
        self._refuse(msg, parsed, Refusal(ErrorCode.UNKNOWN_DEVICE, detail))

    def _may_list(self, parsed: Topic, device_id: str, now: float) -> bool:
        """Whether an unknown id goes on the list for claiming: a gateway gets
        :data:`~hub.contract.limits.UNCLAIMED_PER_GATEWAY` ids an hour, devices and gateways
        speaking for themselves :data:`~hub.contract.limits.UNCLAIMED_DIRECT` together (on
        a broker that checks accounts they cannot be made up); the rest are counted."""
        gateway_id = parsed.gateway_id
        if gateway_id is None or gateway_id == device_id:
            key, quota = _DIRECT, limits.UNCLAIMED_DIRECT
        else:
            key, quota = gateway_id, limits.UNCLAIMED_PER_GATEWAY
        since, ids = self._unclaimed.get(key, (now, set()))
        if now - since >= UNCLAIMED_WINDOW_S:
            since, ids = now, set()
        if len(self._unclaimed) >= _BOUNDED:
            self._unclaimed.clear()
        self._unclaimed[key] = (since, ids)
        if device_id in ids:
            return True
        if len(ids) >= quota:
            self._counts["unclaimed", ""] += 1
            return False
        ids.add(device_id)
        return True

    def _data(self, msg: InboundLike, parsed: Topic, device: Device, m: Any) -> None:
        window = self._window(device.id)
        verdict = window.check(m.seq, hash(msg.payload))
        if verdict == "duplicate":
            self._counts["dup", ""] += 1
            self._ack(msg, now=True)
            return
        if verdict != "new":
            code = ErrorCode.SEQ_REUSED if verdict == "reused" else ErrorCode.SEQ_OUT_OF_WINDOW
            detail = (
                f"seq {m.seq} was already used for different content"
                if verdict == "reused"
                else f"seq {m.seq} is more than {self.seq_window} behind {window.high}"
            )
            self._refuse(msg, parsed, Refusal(code, detail, m.seq))
            return
        offset = self._clock_offset(msg, parsed, device.id, m)
        self._count_gaps(device.id, *self._gap(device.id).observe(m.seq, msg.received_at))
        p = self._pending
        row: TelemetryRow | EventRow
        if parsed.msg_type == "telemetry":
            row = _telemetry_row(device.id, m, msg.received_at)
            p.telemetry.append(row)
            if msg.qos > 0:  # acknowledged once stored, like alarms: QoS 1 readings survive
                p.telemetry_acks.append(msg)
        else:
            data = m.model_dump(exclude={"ts", "seq", "type"}, exclude_none=True)
            row = EventRow(device.id, m.seq, m.ts, msg.received_at, m.type, data)
            p.events.append(row)
            p.urgent = True
            self._ack(msg, now=False)
        self._seen(device.id, msg.received_at, seq=m.seq, offset=offset)
        self._counts["ok", parsed.msg_type] += 1
        if getattr(m, "type", None) == "door" and m.door is None:
            self._warn(msg, device.id, WarningCode.DOOR_UNNAMED, DOOR_UNNAMED_DETAIL, m.seq)
        accepted = Accepted(device, parsed.msg_type, m, msg.received_at, parsed.gateway_id, offset)
        p.accepted.append(accepted)
        p.origins[id(row)] = Origin(msg, accepted)

    def _status(self, msg: InboundLike, parsed: Topic, device: Device, m: Any) -> None:
        online = m.state == "online"
        prev = self._live.get(device.id)
        if m.boot is not None and (prev is None or prev.boot != m.boot):
            self._window(device.id).reset()  # a new boot may restart seq
            self._count_gaps(device.id, self._gap(device.id).restart(), 0)
        at = m.ts if m.ts is not None else msg.received_at
        info = m.model_dump(exclude={"state", "ts"}, exclude_none=True)
        self._seen(device.id, msg.received_at, boot=m.boot, online=online, changed_at=at)
        p = self._pending
        same = prev is not None and prev.online == online
        if not (same and msg.retain):  # a retained copy replayed on subscribe changes nothing
            source: StatusSource = "birth" if online else ("shutdown" if m.reason else "will")
            change = StatusChange(device.id, online, at, source, info)
            accepted = Accepted(
                device, "status", m, msg.received_at, parsed.gateway_id, retained=msg.retain
            )
            p.status.append(change)
            p.accepted.append(accepted)
            p.origins[id(change)] = Origin(msg, accepted)
        self._counts["ok", "status"] += 1
        p.urgent = True
        self._ack(msg, now=False)

    def _reply(self, msg: InboundLike, device: Device, m: Any) -> None:
        p = self._pending
        reply = CommandReplyRow(device.id, m.id, m.ts, msg.received_at, m.status, m.detail)
        accepted = Accepted(device, "reply", m, msg.received_at)
        p.replies.append(reply)
        p.accepted.append(accepted)
        p.origins[id(reply)] = Origin(msg, accepted)
        self._counts["ok", "reply"] += 1
        p.urgent = True
        self._ack(msg, now=False)

    # --- helpers -------------------------------------------------------------------------

    def _window(self, device_id: str) -> SeqWindow:
        w = self._windows.get(device_id)
        if w is None:
            w = self._windows[device_id] = SeqWindow(self.seq_window)
        return w

    def _gap(self, device_id: str) -> SeqGaps:
        g = self._gaps.get(device_id)
        if g is None:
            g = self._gaps[device_id] = SeqGaps(window=self.seq_window)
        return g

    def _count_gaps(self, device_id: str, lost: int, late: int) -> None:
        if self._gaps[device_id].missing:
            self._gappy.add(device_id)
        if late:
            self._counts["late", ""] += late
        if not lost:
            return
        self._counts["gap", ""] += lost
        live = self._live.get(device_id)
        if live is None:
            live = self._live[device_id] = _Live()
        live.telemetry_gaps += lost
        self._touched.add(device_id)

    def _settle_gaps(self) -> None:
        """Count holes that became certain with time (a device that fell silent too)."""
        if not self._gappy:
            return
        now = self.clock()
        for device_id in list(self._gappy):
            g = self._gaps[device_id]
            lost = g.settle(now)
            if not g.missing:
                self._gappy.discard(device_id)
            self._count_gaps(device_id, lost, 0)

    def _seen(
        self,
        device_id: str,
        at: float,
        *,
        seq: int | None = None,
        offset: float | None = None,
        boot: int | None = None,
        online: bool | None = None,
        changed_at: float | None = None,
    ) -> None:
        live = self._live.get(device_id)
        if live is None:
            live = self._live[device_id] = _Live()
        if live.last_seen_at is None or at > live.last_seen_at:
            live.last_seen_at = at
        if boot is not None and boot != live.boot:
            live.boot = boot
            live.last_seq = None  # seq restarts with a new boot
        if seq is not None and (live.last_seq is None or seq > live.last_seq):
            live.last_seq = seq
        if offset is not None:
            live.clock_offset_s = offset
        if online is not None:
            live.online = online
            live.changed_at = changed_at
        self._touched.add(device_id)

    def _clock_offset(
        self, msg: InboundLike, parsed: Topic, device_id: str, m: Any
    ) -> float | None:
        est = self._offsets.get(device_id)
        if est is None:
            est = self._offsets[device_id] = ClockOffset()
        offset = est.update(m.ts, msg.received_at)
        if offset is not None and abs(offset) > self.skew_threshold_s:
            side = "ahead of" if offset > 0 else "behind"
            detail = f"device clock is about {abs(offset):.0f} s {side} the hub; sync it (NTP)"
            self._warn(msg, device_id, WarningCode.CLOCK_SKEW, detail, m.seq)
        return offset

    def _warn(
        self, msg: InboundLike, device_id: str, code: WarningCode, detail: str, seq: int | None
    ) -> None:
        """Report (and count) an accepted message's problem, at most once per device and
        code in :data:`WARN_REPORT_INTERVAL_S`."""
        key = (device_id, code.value)
        last = self._reported.get(key)
        if last is None or msg.received_at - last >= WARN_REPORT_INTERVAL_S:
            self._reported[key] = msg.received_at
            self._counts["warn", code.value] += 1
            self._report(msg.topic, code, detail, seq, "warning", False)

    def _refuse(self, msg: InboundLike, parsed: Topic | None, refusal: Refusal) -> None:
        code = str(refusal.code)
        self._counts["refused", code] += 1
        self.last_refused = code
        if msg.retain and self._refused_retained and self._seen_refused(msg):
            # the broker replays a retained message on every (re)subscribe: it was kept and
            # reported when it first came, and the vendor cannot fix it by being told again
            self._counts["not_kept", "retained"] += 1
            self._ack(msg, now=True)
            return
        device_id = parsed.device_id if parsed else None
        # Reports (and, for floods, dead letters) are throttled per publisher: a gateway's
        # unknown sub-devices and its rate share one key, so made-up ids cannot multiply them.
        owner = device_id
        if parsed is None:
            owner = _owner_of(msg.topic)
        elif code in FLOOD_CODES:
            owner = parsed.gateway_id or device_id
        key = (owner or msg.topic, code)
        last = self._reported.get(key)
        report = last is None or msg.received_at - last >= REPORT_INTERVAL_S
        if report and code in FLOOD_CODES:
            # made-up ids each have a key of their own: all of them together share one budget
            report = self._allow(f"{_DIRECT}/{code}", msg.received_at)
        keep = report or code not in FLOOD_CODES
        if keep:
            self._counts["dead", ""] += 1
            self._pending.dead_letters.append(
                DeadLetter.bounded(
                    msg.received_at, msg.topic, msg.payload, code, refusal.detail, device_id
                )
            )
            # A status is published retained, but a broker forwards a live message without
            # the flag (MQTT 3.1.1; MQTT 5 unless retain-as-published): remember those too,
            # so the copy it replays after our next reconnect is known.
            if msg.retain or msg.topic.endswith("/status"):
                self._remember_refused(msg)
        else:
            self._counts["not_kept", "flood"] += 1
        self._pending.urgent = True
        self._ack(msg, now=False)
        if not report:
            self._suppressed[key] += 1
            return
        self._reported[key] = msg.received_at
        suppressed = self._suppressed.pop(key, 0)
        if len(self._reported) > _BOUNDED:  # bounded memory under a flood of bad ids
            self._reported.clear()
            self._suppressed.clear()
        self._report(msg.topic, code, refusal.detail, refusal.seq, "error", True, suppressed)

    def _remember_refused(self, msg: InboundLike) -> None:
        if len(self._refused_retained) >= _BOUNDED:
            self._refused_retained.pop(next(iter(self._refused_retained)))
        self._refused_retained[msg.topic, hash(msg.payload)] = None

    def _seen_refused(self, msg: InboundLike) -> bool:
        return (msg.topic, hash(msg.payload)) in self._refused_retained

    def _report(
        self,
        topic: str,
        code: str,
        detail: str,
        seq: int | None,
        severity: str,
        dead: bool,
        suppressed: int = 0,
    ) -> None:
        target = errors_topic_for(topic)
        if target is None:
            return
        report = {
            "code": code,
            "severity": severity,
            "detail": detail[:500],
            "topic": topic[:300],
            "seq": seq,
            "ts": round(self.clock(), 3),
            "dead_letter": dead,
            "suppressed": suppressed,
            "contract": "v1",
        }
        payload = json.dumps(report, ensure_ascii=False).encode()
        self._pending.outbox.append(Outbound(target, payload, qos=1, droppable=True))

    def _ack(self, msg: InboundLike, *, now: bool) -> None:
        if msg.qos > 0:
            (self.ack_now if now else self._pending.acks).append(msg)


def _telemetry_row(device_id: str, m: models.Telemetry, received_at: float) -> TelemetryRow:
    values = {}
    for k in VITAL_FIELDS:
        v = getattr(m, k)
        if v is not None:
            values[k] = v
    acc = None
    if m.acc is not None:
        acc = {"t0": m.acc.t0, "hz": m.acc.hz, "g": [list(s) for s in m.acc.g]}
    quality = None
    if (q := m.quality) is not None:
        quality = {
            k: v
            for k, v in (("hr", q.hr), ("spo2", q.spo2), ("motion", q.motion), ("worn", q.worn))
            if v is not None
        }
    return TelemetryRow(device_id, m.seq, m.ts, received_at, values, quality, acc, m.ext)


class _Live:
    """What the hub knows of one device right now (mutable; frozen per batch)."""

    __slots__ = (
        "boot", "changed_at", "clock_offset_s", "last_seen_at", "last_seq", "online",
        "telemetry_gaps",
    )  # fmt: skip

    def __init__(self) -> None:
        self.online: bool | None = None
        self.changed_at: float | None = None
        self.last_seen_at: float | None = None
        self.last_seq: int | None = None
        self.boot: int | None = None
        self.clock_offset_s: float | None = None
        self.telemetry_gaps = 0

    @classmethod
    def of(cls, state: DeviceState) -> _Live:
        live = cls()
        for name in cls.__slots__:
            setattr(live, name, getattr(state, name))
        return live

    def freeze(self, device_id: str) -> DeviceState:
        return DeviceState(
            device_id,
            online=self.online,
            changed_at=self.changed_at,
            last_seen_at=self.last_seen_at,
            last_seq=self.last_seq,
            boot=self.boot,
            clock_offset_s=self.clock_offset_s,
            telemetry_gaps=self.telemetry_gaps,
        )


def _owner_of(topic: str) -> str | None:
    """The device or gateway id a topic is published under, even when the rest of it is
    not a contract topic (what the broker's ACLs tie to a login).

    >>> _owner_of("carehub/v1/gateways/gw-1/devices/x/weather"), _owner_of("a/b")
    ('gw-1', None)
    """
    parts = topic.split("/", 4)
    if len(parts) >= 4 and parts[0] == "carehub" and parts[2] in ("devices", "gateways"):
        return parts[3] or None
    return None


def _rate_help(owner: str, ingest: Ingest) -> str:
    return (
        f"{owner} sent more than {ingest.rate_per_s:g} messages/s (burst {ingest.rate_burst}); "
        "a gateway's sub-devices share its rate"
    )


def _topic_help(topic: str) -> str:
    shown = topic if len(topic) <= 120 else topic[:117] + "..."
    return (
        f"topic {shown!r} is not a contract topic; use carehub/v1/devices/{{id}}/"
        "{telemetry|event|status|reply} or carehub/v1/gateways/{gw}/devices/{id}/{type}"
    )
