"""The ``ping`` command: proves the command path to a device works (pure).

The device answers on its ``reply`` topic with the command's ``id`` (``received``/``done``);
the hub stores the reply like any other. ``carehub device ping ID`` and
``POST /api/devices/{id}/ping`` send it.

>>> topic, payload = ping_command("w-001", None, "c-1", 1767225660.0)
>>> topic, payload
('carehub/v1/devices/w-001/cmd', b'{"id":"c-1","ts":1767225660.0,"cmd":"ping"}')
>>> reply_topic("door-1", "gw-9")
'carehub/v1/gateways/gw-9/devices/door-1/reply'
"""

from __future__ import annotations

import secrets

from hub.contract.models import PingCommand
from hub.contract.topics import device_topic


def new_command_id() -> str:
    """A fresh command id (``c-`` and 12 hex digits)."""
    return f"c-{secrets.token_hex(6)}"


def ping_command(
    device_id: str, gateway_id: str | None, command_id: str, now: float
) -> tuple[str, bytes]:
    """(topic, payload) of a validated ``ping`` for the device, through its gateway."""
    cmd = PingCommand(id=command_id, ts=now, cmd="ping")
    payload = cmd.model_dump_json(exclude_none=True).encode()
    return device_topic(device_id, "cmd", gateway_id), payload


def reply_topic(device_id: str, gateway_id: str | None) -> str:
    """Where the device answers."""
    return device_topic(device_id, "reply", gateway_id)
