"""The whole chain in one running hub: an SOS published over MQTT opens a high-priority
alert; a staff member acknowledges it; the wearable receives "help is coming" on its cmd
topic; its reply is recorded on the alert's timeline. (Escalation to the family when nobody
acknowledges is tested with an injected clock in tests/alerts.)"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from carehub.serve import Hub
from hub.registry.provisioning import provision_device
from hub.store.base import Device, Resident, Store
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.waiting import eventually
from tests.helpers.hubs import running_hub
from tests.helpers.registry import add_station

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


@pytest.fixture
async def hub(store: Store, mosquitto: Any) -> AsyncIterator[Hub]:
    add_station(store)
    store.add_resident(Resident("r-1", "st-1", "王秀英", address="花木路 100 弄 5 号 301"))
    provision_device(store, Device("w-1", "wearable", resident_id="r-1"))
    async with running_hub(store, mosquitto.url, detect_tick_s=0.5) as h:
        yield h


async def test_sos_to_acknowledge_to_help_is_coming(hub: Hub, mosquitto: Any) -> None:
    dev = MqttTestClient(mosquitto.url)
    await asyncio.to_thread(dev.connect)
    try:
        await asyncio.to_thread(dev.subscribe, "carehub/v1/devices/w-1/cmd")
        sos = {"ts": time.time(), "seq": 1, "type": "sos", "press": "long"}
        await asyncio.to_thread(
            dev.publish, "carehub/v1/devices/w-1/event", json.dumps(sos).encode(), 1
        )
        [alert] = await eventually(
            "an open SOS alert",
            lambda: [a for a in hub.alert_engine.open_alerts() if a.kind == "sos"],
        )
        assert (alert.priority, alert.resident_id, alert.state) == ("high", "r-1", "open")

        await hub.alerts.call(hub.alert_engine.acknowledge, alert.id, "staff:li", time.time())
        [cmd_msg] = await asyncio.to_thread(
            dev.wait_for, lambda m: m.topic == "carehub/v1/devices/w-1/cmd"
        )
        cmd = json.loads(cmd_msg.payload)
        assert (cmd["cmd"], cmd["pattern"]) == ("notify", "help_coming")
        reply = {"id": cmd["id"], "ts": time.time(), "status": "done"}
        await asyncio.to_thread(
            dev.publish, "carehub/v1/devices/w-1/reply", json.dumps(reply).encode(), 1
        )
        acked = await eventually(
            "the device's reply on the alert",
            lambda: (a := hub.alert_engine.get_alert(alert.id)).command_status == "done" and a,
        )
    finally:
        await asyncio.to_thread(dev.disconnect)
    assert (acked.state, acked.acked_by) == ("acknowledged", "staff:li")
    actions = [t.action for t in hub.alert_engine.timeline(alert_id=alert.id)]
    assert "command_reply" in actions
    assert any("ack" in a for a in actions)
