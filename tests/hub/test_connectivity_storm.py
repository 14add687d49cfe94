"""A connectivity storm through a running hub: two dozen devices' Last Wills arrive
together (their connections dropped at once, as in a broker restart or a site losing its
network) and the station gets exactly one alert, ``connectivity_loss``, listing them; no
per-device ``device_offline``. When they reconnect, the storm alert clears itself."""

from __future__ import annotations

import asyncio
import json
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

DEVICES = [f"w-{i:02d}" for i in range(24)]
OFFLINE = json.dumps({"state": "offline"}).encode()
ONLINE = json.dumps({"state": "online"}).encode()


def status_topic(device_id: str) -> str:
    return f"carehub/v1/devices/{device_id}/status"


@pytest.fixture
async def hub(store: Store, mosquitto: Any) -> AsyncIterator[Hub]:
    add_station(store)
    for i, dev in enumerate(DEVICES):
        store.add_resident(Resident(f"r-{i:02d}", "st-1", f"居民{i}"))
        provision_device(store, Device(dev, "wearable", resident_id=f"r-{i:02d}"))
    async with running_hub(store, mosquitto.url, detect_tick_s=0.5) as h:
        yield h


def connect_all(url: str) -> list[MqttTestClient]:
    clients = []
    for dev in DEVICES:
        c = MqttTestClient(url, client_id=dev, will=(status_topic(dev), OFFLINE))
        c.connect()
        c.publish(status_topic(dev), ONLINE, 1, retain=True)
        clients.append(c)
    return clients


async def test_many_wills_at_once_are_one_alert(hub: Hub, mosquitto: Any) -> None:
    clients = await asyncio.to_thread(connect_all, mosquitto.url)
    try:
        for c in clients:  # every connection drops at once: the broker sends 24 Wills
            c.abort()
        [storm] = await eventually(
            "one connectivity_loss alert",
            lambda: [a for a in hub.alert_engine.open_alerts() if a.kind == "connectivity_loss"],
        )
        await asyncio.sleep(3 * hub.settings.detect_tick_s + 5.0)  # past the storm window
        alerts = hub.alert_engine.list_alerts()
        assert [(a.kind, a.subject) for a in alerts] == [("connectivity_loss", "station:st-1")]
        latest = hub.alert_engine.get_alert(storm.id)
        assert latest.station_id == "st-1"
        assert latest.evidence["device_count"] == len(DEVICES)
        assert set(latest.evidence["devices"].split(",")) == set(DEVICES)
    finally:
        for c in clients:
            c.disconnect()

    back = await asyncio.to_thread(connect_all, mosquitto.url)  # they return
    try:
        cleared = await eventually(
            "the storm alert to clear itself",
            lambda: (a := hub.alert_engine.get_alert(storm.id)).state == "resolved" and a,
        )
        assert cleared.outcome == "self_cleared"
        assert [a.kind for a in hub.alert_engine.list_alerts()] == ["connectivity_loss"]
    finally:
        for c in back:
            c.disconnect()
