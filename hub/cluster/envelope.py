"""A device's MQTT message as it travels through JetStream, and back.

The bridge publishes the payload bytes unchanged, with what the hub needs to know about
the MQTT message in headers: its topic, QoS, retain flag and the bridge's receive time
(the hub's receive time of record). A worker turns a stream message back into a
:class:`Delivered`, which :class:`hub.ingest.core.Ingest` takes like an MQTT message,
carrying the partition, its stream sequence and the lease epoch under which it was fetched.

Pure: no I/O.

>>> h = headers_for("carehub/v1/devices/w-1/event", qos=1, retain=False, received_at=12.5)
>>> h["Carehub-Topic"], h["Carehub-Received"]
('carehub/v1/devices/w-1/event', '12.5')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TOPIC = "Carehub-Topic"
RECEIVED = "Carehub-Received"
QOS = "Carehub-Qos"
RETAIN = "Carehub-Retain"
MSG_ID = "Nats-Msg-Id"


def headers_for(topic: str, *, qos: int, retain: bool, received_at: float) -> dict[str, str]:
    retained = "1" if retain else "0"
    return {TOPIC: topic, QOS: str(qos), RETAIN: retained, RECEIVED: repr(received_at)}


def message_id(device_id: str, msg_class: str, ts: float, seq: int) -> str:
    """JetStream's duplicate key of a message: the same ``(device, ts, seq)`` the store keys
    rows on. A stateless bridge does not know a device's current ``boot``; its clock time
    stands in for it, so a device that restarts ``seq`` after a reboot is not taken for a
    resend (unless it also repeats the time, which the store would not keep either).

    >>> message_id("w-1", "event", 1700000000.25, 7)
    'w-1:event:1700000000.25:7'
    """
    return f"{device_id}:{msg_class}:{ts!r}:{seq}"


@dataclass(frozen=True, slots=True)
class Delivered:
    """A stream message handed to ingest (the fields of ``hub.mqtt.adapter.Inbound`` that
    :class:`hub.ingest.core.Ingest` reads, plus where it came from)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received_at: float
    partition: int
    stream_seq: int
    epoch: int
    redelivered: bool = False
    handle: Any = None
    """The stream message, to acknowledge once committed and through detection."""


def delivered(
    headers: Mapping[str, str] | None, payload: bytes, *, partition: int, stream_seq: int,
    epoch: int, redelivered: bool = False, handle: Any = None,
) -> Delivered | None:  # fmt: skip
    """The message from a stream message's headers; ``None`` when they are not ours."""
    if not headers or TOPIC not in headers:
        return None
    try:
        received = float(headers.get(RECEIVED, "nan"))
        qos = int(headers.get(QOS, "1"))
    except ValueError:
        return None
    return Delivered(
        headers[TOPIC], payload, qos, headers.get(RETAIN) == "1", received, partition,
        stream_seq, epoch, redelivered, handle,
    )  # fmt: skip
