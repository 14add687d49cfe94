"""What the ingest pipeline writes, one transaction a flush, and what it reads back at start:
telemetry, events, dead letters, status changes, command replies and per-device presence."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from hub.contract.limits import SEQ_WINDOW


@dataclass(frozen=True, slots=True)
class DeviceState:
    """What the hub last knew of a device's presence and data."""

    device_id: str
    online: bool | None = None
    """None: never heard of."""
    changed_at: float | None = None
    last_seen_at: float | None = None
    last_seq: int | None = None
    boot: int | None = None
    clock_offset_s: float | None = None
    """Estimated device clock minus hub clock, seconds (positive: device ahead)."""
    telemetry_gaps: int = 0
    """``seq`` numbers counted as lost since the device was first seen (only goes up)."""


VITAL_FIELDS: tuple[str, ...] = (
    "hr", "spo2", "rr", "temp", "sbp", "dbp", "glucose", "battery", "rssi", "room_temp",
    "humidity",
)  # fmt: skip
"""Numeric telemetry columns, in storage order."""


@dataclass(frozen=True, slots=True)
class TelemetryRow:
    device_id: str
    seq: int
    ts: float
    """Device time."""
    received_at: float
    """Hub time."""
    values: dict[str, float]
    """Subset of VITAL_FIELDS that the message carried."""
    quality: dict[str, Any] | None = None
    acc: dict[str, Any] | None = None
    """``{"t0": float, "hz": float, "g": [[x, y, z], ...]}`` or None."""
    ext: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EventRow:
    device_id: str
    seq: int
    ts: float
    received_at: float
    type: str
    data: dict[str, Any]
    """The event's fields other than ts, seq and type."""


DEAD_LETTER_KEEP_BYTES = 4096
"""Bytes of a refused payload kept in its dead letter; a longer one keeps this prefix, its
size and its SHA-256 (enough to recognise it and see what it started with)."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: float
    topic: str
    payload: bytes
    """The payload, or its first :data:`DEAD_LETTER_KEEP_BYTES` when ``size`` is set."""
    code: str
    detail: str
    device_id: str | None = None
    id: int | None = None
    """Assigned by the store."""
    size: int | None = None
    """Size of the whole payload when only a prefix is kept (``None``: kept whole)."""
    sha256: str | None = None
    """Hex SHA-256 of the whole payload when only a prefix is kept."""

    @classmethod
    def bounded(
        cls,
        received_at: float,
        topic: str,
        payload: bytes,
        code: str,
        detail: str,
        device_id: str | None = None,
        *,
        keep: int = DEAD_LETTER_KEEP_BYTES,
    ) -> DeadLetter:
        """A dead letter holding at most ``keep`` bytes of ``payload``.

        >>> d = DeadLetter.bounded(0.0, "t", b"abcdef", "payload_too_large", "big", keep=2)
        >>> d.payload, d.size, d.sha256[:12]
        (b'ab', 6, 'bef57ec7f53a')
        >>> DeadLetter.bounded(0.0, "t", b"ab", "json_invalid", "x", keep=2).size is None
        True
        """
        if len(payload) <= keep:
            return cls(received_at, topic, bytes(payload), code, detail, device_id)
        digest = hashlib.sha256(payload).hexdigest()
        return cls(
            received_at, topic, bytes(payload[:keep]), code, detail, device_id,
            size=len(payload), sha256=digest,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeadLetterPrune:
    """Dead letters deleted by one retention pass."""

    aged: int
    """Older than the retention period."""
    capped: int
    """Beyond the newest ones the store keeps."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A device went online or offline (birth, Last Will, clean shutdown, silence)."""

    device_id: str
    online: bool
    at: float
    source: Literal["birth", "will", "shutdown", "silence"]
    info: dict[str, Any] = field(default_factory=dict)
    """From the status payload: boot, firmware, model, capabilities, reason..."""


@dataclass(frozen=True, slots=True)
class CommandReplyRow:
    device_id: str
    command_id: str
    ts: float
    received_at: float
    status: str
    detail: str | None = None


class SeqsByDevice(Mapping[str, list[int]]):
    """``seq`` values per device, kept as 64-bit arrays; a device's list is built when it is
    asked for. What :meth:`Store.recent_seqs` returns: rebuilding the duplicate windows of
    thousands of devices after a restart then never holds millions of Python ints (and
    row tuples) at once, a peak the process used to keep as resident memory afterwards.

    >>> s = SeqsByDevice({"w-1": [2, 3, 4]})
    >>> s["w-1"], dict(s) == {"w-1": [2, 3, 4]}
    ([2, 3, 4], True)
    """

    __slots__ = ("_arrays",)

    def __init__(self, seqs: Mapping[str, Iterable[int]] | None = None) -> None:
        self._arrays: dict[str, array[int]] = {k: array("q", v) for k, v in (seqs or {}).items()}

    def add(self, device_id: str, seqs: Iterable[int]) -> None:
        self._arrays.setdefault(device_id, array("q")).extend(seqs)

    def __getitem__(self, device_id: str) -> list[int]:
        return self._arrays[device_id].tolist()

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __repr__(self) -> str:
        return f"SeqsByDevice({dict(self)!r})"


@dataclass(frozen=True, slots=True)
class IngestBatch:
    """Everything one flush of the ingest pipeline writes, in one transaction."""

    telemetry: Sequence[TelemetryRow] = ()
    events: Sequence[EventRow] = ()
    dead_letters: Sequence[DeadLetter] = ()
    status: Sequence[StatusChange] = ()
    replies: Sequence[CommandReplyRow] = ()
    seen: Sequence[DeviceState] = ()
    """Per-device high-water marks (last_seen_at, last_seq, boot, clock offset)."""
    unprovisioned: Sequence[tuple[str, str, float, str | None]] = ()
    """(device_id, topic, at, gateway_id) of messages from unknown devices."""

    def __len__(self) -> int:
        return (
            len(self.telemetry) + len(self.events) + len(self.dead_letters) + len(self.status)
            + len(self.replies) + len(self.seen) + len(self.unprovisioned)
        )  # fmt: skip


STATUS_DEVICE_FIELDS = ("firmware", "model", "vendor", "capabilities", "interval_s", "worn_at")
"""Keys of :attr:`StatusChange.info` that ``write_batch`` copies into the device registry."""


def device_fields_from_status(info: dict[str, Any]) -> dict[str, Any]:
    """The registry fields a status message updates, as ``Device`` field values.

    Only well-typed values are taken (the payload was validated upstream); anything else is
    ignored rather than failing a whole batch. Only fields that describe the device: what
    decides access (``vendor``, which picks what a vendor's users see; ``kind``, the resident
    and the gateway) is the operator's, set at provisioning, and a device never changes it.

    >>> device_fields_from_status({"firmware": "2.1", "capabilities": ["hr"], "vendor": "X"})
    {'firmware': '2.1', 'capabilities': ('hr',)}
    """
    out: dict[str, Any] = {}
    for key in ("firmware", "model", "worn_at"):
        if isinstance(info.get(key), str):
            out[key] = info[key]
    caps = info.get("capabilities")
    if isinstance(caps, list | tuple) and all(isinstance(c, str) for c in caps):
        out["capabilities"] = tuple(caps)
    interval = info.get("interval_s")
    if isinstance(interval, int | float) and not isinstance(interval, bool):
        out["interval_s"] = float(interval)
    return out


def boot_from_status(info: dict[str, Any]) -> int | None:
    """The boot counter a status message carries, when it is an integer.

    >>> boot_from_status({"boot": 3}), boot_from_status({"boot": True}), boot_from_status({})
    (3, None, None)
    """
    boot = info.get("boot")
    return boot if isinstance(boot, int) and not isinstance(boot, bool) else None


@runtime_checkable
class IngestStore(Protocol):
    """One flush of the ingest pipeline in, presence and duplicate windows out."""

    def write_batch(self, batch: IngestBatch) -> list[int]:
        """Write everything in one transaction; return the ids given to the dead letters,
        in order. Telemetry goes through COPY where the back-end has it."""
        ...

    def device_states(self) -> list[DeviceState]: ...
    def get_device_state(self, device_id: str) -> DeviceState: ...
    def recent_seqs(self, since: float, window: int = SEQ_WINDOW) -> Mapping[str, list[int]]:
        """``seq`` of telemetry and events received since ``since``, per device, ascending,
        only those within ``window`` of the device's newest (all a duplicate window keeps):
        used to rebuild the duplicate filter after a restart. Returned as
        :class:`SeqsByDevice`."""
        ...
