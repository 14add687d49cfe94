"""``carehub device ping ID``: send the ``ping`` command and wait for the device's reply.

It connects to the hub's broker with the hub's account (``CAREHUB_MQTT_URL`` and
``CAREHUB_MQTT_PASSWORD``; without them, the embedded broker at
``CAREHUB_EMBEDDED_MQTT_HOST:PORT``) under a client id of its own, publishes the command
(through the gateway for a sub-device) and listens on the device's ``reply`` topic. The
running hub stores the reply too. An account bound to the hub's client id cannot be used
here: use ``POST /api/devices/{id}/ping`` on the dashboard instead.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any

from hub.contract.ping import new_command_id, ping_command, reply_topic
from hub.errors import BrokerError
from hub.settings import HubSettings
from hub.store.base import Device


@dataclass(frozen=True, slots=True)
class PingResult:
    command_id: str
    topic: str
    status: str | None
    """The device's answer (``received``, ``done``...), ``None`` when none came in time."""
    seconds: float | None


def broker_url(settings: HubSettings) -> str:
    """The hub's broker, with its password, as ``carehub serve`` would use it."""
    from carehub.serve import _with_password

    url = settings.mqtt_url
    if url is None:
        url = f"mqtt://{settings.embedded_mqtt_host}:{settings.embedded_mqtt_port}?protocol=3"
    if settings.mqtt_password is not None:
        url = _with_password(url, settings.mqtt_password.get_secret_value())
    return url


async def ping(device: Device, url: str, *, wait_s: float = 10.0) -> PingResult:
    """Publish a ``ping`` to ``device`` and wait up to ``wait_s`` for its reply."""
    from hub.mqtt.adapter import MqttAdapter, MqttSettings

    base = MqttSettings.from_url(url)
    settings = replace(base, client_id=f"carehub-ping-{secrets.token_hex(4)}", clean_start=True)
    answer_on = reply_topic(device.id, device.gateway_id)
    adapter = MqttAdapter(settings, subscriptions=[(answer_on, 1)], manual_ack=False)
    command_id = new_command_id()
    topic, payload = ping_command(device.id, device.gateway_id, command_id, time.time())
    await adapter.start()
    try:
        started = time.monotonic()
        receipt = adapter.publish(topic, payload, qos=1)
        status = await _reply(adapter, command_id, wait_s)
        if receipt is None or (status is None and not receipt.done()):
            raise BrokerError(f"the broker did not take the command on {topic}")
        took = round(time.monotonic() - started, 3) if status is not None else None
        return PingResult(command_id, topic, status, took)
    finally:
        await adapter.stop()


async def _reply(adapter: Any, command_id: str, wait_s: float) -> str | None:
    try:
        async with asyncio.timeout(wait_s):
            while True:
                for msg in await adapter.get_batch(100):
                    try:
                        body = json.loads(msg.payload)
                    except ValueError:
                        continue
                    if isinstance(body, dict) and body.get("id") == command_id:
                        status = body.get("status")
                        return str(status) if status is not None else "?"
    except TimeoutError:
        return None
