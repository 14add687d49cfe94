"""Device behaviours: each device turns what happens to its resident into contract messages.

A :class:`Device` keeps the contract's bookkeeping (``seq`` strictly increasing across all
message types, ``boot``, topics through its gateway) and builds :class:`Message` values:
what to publish, on which connection, at which simulated time. Which devices a home has and
what they send is decided in :mod:`device_sim.home`.

>>> d = Device("w-1", "wearable")
>>> m = d.telemetry(1767225600.0, hr=72)
>>> m.topic, m.payload
('carehub/v1/devices/w-1/telemetry', b'{"ts":1767225600.0,"seq":1,"hr":72}')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub.contract.topics import device_topic

OFFLINE_WILL = b'{"state":"offline"}'


@dataclass(frozen=True, slots=True, order=True)
class Message:
    """One publish: at simulated time ``at``, over the connection of device ``conn``."""

    at: float
    conn: str = field(compare=False)
    topic: str = field(compare=False)
    payload: bytes = field(compare=False)
    qos: int = field(default=1, compare=False)
    retain: bool = field(default=False, compare=False)


@dataclass(slots=True)
class Device:
    """One simulated device. ``gateway_id`` set: it speaks through that gateway's connection."""

    id: str
    kind: str
    gateway_id: str | None = None
    resident_id: str | None = None
    vendor: str = "SimCare"
    model: str = "SIM-1"
    firmware: str = "1.0.0"
    interval_s: float | None = None
    capabilities: tuple[str, ...] = ()
    worn_at: str | None = None
    boot: int = 1
    seq: int = 0
    clock_offset_s: float = 0.0

    @property
    def conn(self) -> str:
        return self.gateway_id or self.id

    def topic(self, msg_type: str) -> str:
        return device_topic(self.id, msg_type, self.gateway_id or (
            self.id if self.kind == "gateway" else None))  # fmt: skip

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def _msg(self, at: float, msg_type: str, body: dict[str, Any], qos: int,
             retain: bool = False) -> Message:  # fmt: skip
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return Message(at, self.conn, self.topic(msg_type), payload, qos, retain)

    def ts(self, at: float) -> float:
        return round(at + self.clock_offset_s, 3)

    def birth(self, at: float) -> Message:
        """The retained ``online`` status with what the device is and promises."""
        body: dict[str, Any] = {
            "state": "online", "ts": self.ts(at), "boot": self.boot, "kind": self.kind,
            "vendor": self.vendor, "model": self.model, "firmware": self.firmware,
        }  # fmt: skip
        if self.capabilities:
            body["capabilities"] = list(self.capabilities)
        if self.interval_s is not None:
            body["interval_s"] = self.interval_s
        if self.worn_at is not None:
            body["worn_at"] = self.worn_at
        return self._msg(at, "status", body, 1, retain=True)

    def offline(self, at: float, reason: str = "shutdown") -> Message:
        return self._msg(at, "status", {"state": "offline", "ts": self.ts(at), "reason": reason},
                         1, retain=True)  # fmt: skip

    def will(self) -> tuple[str, bytes]:
        """Topic and payload of the Last Will (only for devices with their own connection)."""
        return self.topic("status"), OFFLINE_WILL

    def telemetry(self, at: float, qos: int = 1, **fields: Any) -> Message:
        body = {"ts": self.ts(at), "seq": self._next()}
        body.update({k: v for k, v in fields.items() if v is not None})
        return self._msg(at, "telemetry", body, qos)

    def event(self, at: float, type_: str, **fields: Any) -> Message:
        body = {"ts": self.ts(at), "seq": self._next(), "type": type_}
        body.update({k: v for k, v in fields.items() if v is not None})
        return self._msg(at, "event", body, 1)

    def raw(self, at: float, msg_type: str, payload: bytes, qos: int = 1) -> Message:
        """A payload sent as is (malformed or off-contract messages)."""
        return Message(at, self.conn, self.topic(msg_type), payload, qos)
