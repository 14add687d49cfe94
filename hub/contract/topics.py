"""Topic layout of the device contract v1.

Devices publish under ``carehub/v1/devices/{device_id}/{type}``; a home gateway speaks
for its sub-devices under ``carehub/v1/gateways/{gateway_id}/devices/{sub_id}/{type}``
and for itself under ``carehub/v1/gateways/{gateway_id}/{type}``. The hub answers on
``.../cmd`` (commands) and ``.../errors`` (refusals).

>>> parse_topic("carehub/v1/devices/w-001/telemetry")
Topic(device_id='w-001', msg_type='telemetry', gateway_id=None)
>>> parse_topic("carehub/v1/gateways/gw-9/devices/door-1/event").gateway_id
'gw-9'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PREFIX: Final = "carehub/v1"
DEVICE_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

INBOUND_TYPES: Final = frozenset({"telemetry", "event", "status", "reply"})
"""Message types a device (or a gateway) publishes to the hub."""
OUTBOUND_TYPES: Final = frozenset({"cmd", "errors"})
"""Message types the hub publishes to a device."""

ALARM_CLASS_TYPES: Final = frozenset({"event", "status", "reply"})
"""Inbound types that are written at once, in small transactions of their own (telemetry
waits for its batch to fill; every QoS 1 message is acknowledged only once stored)."""


@dataclass(frozen=True, slots=True)
class Topic:
    """Where a message came from: the device it concerns and, for gateways, via which."""

    device_id: str
    msg_type: str
    gateway_id: str | None = None


def parse_topic(topic: str) -> Topic | None:
    """Split an inbound topic; ``None`` when it is not a valid contract topic."""
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != "carehub" or parts[1] != "v1":
        return None
    if parts[2] == "devices" and len(parts) == 5:
        device_id, msg_type, gateway_id = parts[3], parts[4], None
    elif parts[2] == "gateways" and len(parts) == 5:
        device_id, msg_type, gateway_id = parts[3], parts[4], parts[3]
    elif parts[2] == "gateways" and len(parts) == 7 and parts[4] == "devices":
        device_id, msg_type, gateway_id = parts[5], parts[6], parts[3]
    else:
        return None
    if msg_type not in INBOUND_TYPES or not DEVICE_ID_RE.match(device_id):
        return None
    if gateway_id is not None and not DEVICE_ID_RE.match(gateway_id):
        return None
    return Topic(device_id=device_id, msg_type=msg_type, gateway_id=gateway_id)


def device_topic(device_id: str, msg_type: str, gateway_id: str | None = None) -> str:
    """The topic of ``msg_type`` for a device, through its gateway when it has one.

    >>> device_topic("w-001", "cmd")
    'carehub/v1/devices/w-001/cmd'
    >>> device_topic("door-1", "errors", gateway_id="gw-9")
    'carehub/v1/gateways/gw-9/devices/door-1/errors'
    """
    if gateway_id is None:
        return f"{PREFIX}/devices/{device_id}/{msg_type}"
    if gateway_id == device_id:
        return f"{PREFIX}/gateways/{gateway_id}/{msg_type}"
    return f"{PREFIX}/gateways/{gateway_id}/devices/{device_id}/{msg_type}"


def errors_topic_for(topic: str) -> str | None:
    """The errors topic that answers a message published on ``topic``.

    Works for topics that are only roughly valid (wrong message type), so that a vendor
    learns why even a mistyped topic was refused; ``None`` when no device can be named.

    >>> errors_topic_for("carehub/v1/devices/w-001/telemtry")
    'carehub/v1/devices/w-001/errors'
    """
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != "carehub" or parts[1] != "v1":
        return None
    if parts[2] == "devices" and DEVICE_ID_RE.match(parts[3]):
        return device_topic(parts[3], "errors")
    if parts[2] == "gateways" and DEVICE_ID_RE.match(parts[3]):
        if len(parts) >= 7 and parts[4] == "devices" and DEVICE_ID_RE.match(parts[5]):
            return device_topic(parts[5], "errors", gateway_id=parts[3])
        return device_topic(parts[3], "errors", gateway_id=parts[3])
    return None


def is_outbound(topic: str) -> bool:
    """True for topics the hub itself publishes (``cmd``, ``errors``); the hub ignores
    their echo when the broker delivers them back to it (MQTT 3.1.1 has no no-local)."""
    last = topic.rsplit("/", 1)[-1]
    return last in OUTBOUND_TYPES


def subscriptions() -> list[tuple[str, int]]:
    """Topic filters the hub subscribes to, with their QoS.

    The filters are wide on purpose: a message on a mistyped topic still reaches the hub,
    which refuses it with ``topic_invalid`` on the device's errors topic instead of the
    vendor hearing nothing. QoS 1 is the maximum: a message published at QoS 0 stays QoS 0;
    every QoS 1 message (telemetry included) is acknowledged by the hub only once stored.
    """
    return [(f"{PREFIX}/devices/#", 1), (f"{PREFIX}/gateways/#", 1)]
