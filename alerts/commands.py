"""The "help is coming" command sent to the resident's device on acknowledge (pure).

The command is the device contract's ``notify`` command (``hub.contract.models
.NotifyCommand``) on the device's ``.../cmd`` topic (through its gateway when it has one),
published with QoS 1. The device answers on ``.../reply`` with the same ``id``; the engine
records the answer on the alert (``received``, ``done``, ``failed``, ``unsupported``), so the
dashboard shows whether the resident was actually told.

Only devices a resident wears or carries can tell them anything: the alert's own device
when it is one, otherwise the resident's first wearable or pendant.

>>> from hub.store.base import Device
>>> cmd = help_coming(Device("w-1", "wearable"), "al-1", "c-1", 100.0)
>>> cmd.topic
'carehub/v1/devices/w-1/cmd'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from hub.contract.models import NotifyCommand
from hub.contract.topics import device_topic
from hub.store.base import Device

WEARABLE_KINDS = frozenset({"wearable", "pendant"})
HELP_TEXT: dict[Literal["zh-CN", "en"], str] = {
    "zh-CN": "工作人员已收到求助，正在赶来",
    "en": "Help is on the way",
}
QOS = 1


@dataclass(frozen=True, slots=True)
class CommandOut:
    """A command to publish: ``publish(topic, payload, qos)``."""

    alert_id: str
    device_id: str
    command_id: str
    topic: str
    payload: bytes
    qos: int = QOS


def command_device(
    alert_device: Device | None, resident_devices: Sequence[Device]
) -> Device | None:
    """The device to tell the resident through, or None when there is none."""
    if alert_device is not None and alert_device.kind in WEARABLE_KINDS and alert_device.enabled:
        return alert_device
    for d in resident_devices:
        if d.kind in WEARABLE_KINDS and d.enabled:
            return d
    return None


def help_coming(device: Device, alert_id: str, command_id: str, now: float) -> CommandOut:
    """The validated ``notify`` command (vibrate and speak "help is coming")."""
    cmd = NotifyCommand(
        id=command_id, ts=now, cmd="notify", pattern="help_coming", text=HELP_TEXT,
        vibrate=True, voice=True, alert_id=alert_id,
    )  # fmt: skip
    return CommandOut(
        alert_id=alert_id, device_id=device.id, command_id=command_id,
        topic=device_topic(device.id, "cmd", device.gateway_id),
        payload=cmd.model_dump_json(exclude_none=True).encode(),
    )  # fmt: skip
