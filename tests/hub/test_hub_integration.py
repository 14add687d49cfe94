"""The whole hub against a real broker and a real store: a provisioned device's data lands
in the store, refusals come back on the errors topic and in the dead letters, presence
follows the birth message and the Last Will, duplicates stay dropped across a restart, and a
stalled store write does not make the devices look silent."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from carehub.http import create_app
from carehub.serve import HUB_STATUS_TOPIC, Hub
from hub.registry.provisioning import provision_device
from hub.settings import HubSettings
from hub.store.base import Device, Resident, Store
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.waiting import eventually
from tests.helpers.registry import add_station

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

SETTINGS = HubSettings(batch_max_delay_s=0.05, registry_refresh_s=0.2)


def _registry(store: Store) -> None:
    add_station(store)
    store.add_resident(Resident("r-1", "st-1", "王秀英"))
    provision_device(store, Device("w-1", "wearable", resident_id="r-1"))
    provision_device(store, Device("gw-1", "gateway", resident_id="r-1"))
    provision_device(store, Device("door-1", "door", gateway_id="gw-1", resident_id="r-1"))


def _unique(url: str) -> str:
    """A client id of its own: a persistent session left by another test must not replay."""
    return f"{url}?client_id=test-hub-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def hub(store: Store, broker: Any) -> AsyncIterator[Hub]:
    _registry(store)
    h = Hub(store, _unique(broker.url), settings=SETTINGS, node_id="test-hub")
    await h.start()
    yield h
    await h.stop()


def _tel(seq: int, **values: Any) -> bytes:
    return json.dumps({"ts": time.time(), "seq": seq, **(values or {"hr": 72})}).encode()


async def test_device_data_lands_in_the_store_and_refusals_come_back(
    hub: Hub, store: Store, broker: Any
) -> None:
    with MqttTestClient(broker.url) as dev:
        dev.subscribe("carehub/v1/#")
        birth = {"state": "online", "ts": time.time(), "firmware": "2.1.0", "boot": 1}
        dev.publish("carehub/v1/devices/w-1/status", json.dumps(birth).encode(), 1, True)
        sent = [_tel(seq, hr=70 + seq, spo2=97) for seq in range(1, 6)]
        for payload in sent:
            dev.publish("carehub/v1/devices/w-1/telemetry", payload, 0)
        dev.publish("carehub/v1/devices/w-1/telemetry", sent[-1], 1)  # the same message again
        sos = {"ts": time.time(), "seq": 6, "type": "sos"}
        dev.publish("carehub/v1/devices/w-1/event", json.dumps(sos).encode(), 1)
        door = {"ts": time.time(), "seq": 1, "type": "door", "open": True, "door": "front"}
        dev.publish("carehub/v1/gateways/gw-1/devices/door-1/event", json.dumps(door).encode(), 1)
        dev.publish("carehub/v1/devices/w-1/telemetry", b'{"ts": 1767225600, "seq": 7, "hr"', 1)
        dev.publish("carehub/v1/devices/stranger-9/telemetry", _tel(1), 1)
        dev.publish("carehub/v1/gateways/gw-1/devices/w-1/event", json.dumps(sos).encode(), 1)

        rows = await eventually(
            "5 telemetry rows", lambda: len(store.telemetry("w-1")) == 5 or None
        )
        assert rows
        assert [r.values["hr"] for r in store.telemetry("w-1")] == [71, 72, 73, 74, 75]
        await eventually("both events", lambda: len(store.events()) == 2 or None)
        assert {(e.device_id, e.type) for e in store.events()} == {
            ("w-1", "sos"),
            ("door-1", "door"),
        }

        codes = await eventually(
            "three dead letters",
            lambda: (c := store.count_dead_letters()) and sum(c.values()) == 3 and c,
        )
        assert codes == {"json_invalid": 1, "unknown_device": 1, "not_on_gateway": 1}
        [report] = await asyncio.to_thread(
            dev.wait_for, lambda m: m.topic == "carehub/v1/devices/w-1/errors"
        )
        assert json.loads(report.payload)["code"] == "json_invalid"
        [report] = await asyncio.to_thread(
            dev.wait_for, lambda m: m.topic == "carehub/v1/devices/stranger-9/errors"
        )
        assert json.loads(report.payload)["code"] == "unknown_device"
        await asyncio.to_thread(
            dev.wait_for, lambda m: m.topic == "carehub/v1/gateways/gw-1/devices/w-1/errors"
        )
        [letter] = store.dead_letters(code="json_invalid")
        assert letter.payload == b'{"ts": 1767225600, "seq": 7, "hr"'
        assert letter.device_id == "w-1"
        assert [u.device_id for u in store.list_unprovisioned()] == ["stranger-9"]

        state = store.get_device_state("w-1")
        assert state.online is True
        assert state.boot == 1
        assert store.get_device("w-1").firmware == "2.1.0"
        assert hub.metrics.duplicates._value.get() == 1


async def test_last_will_marks_the_device_offline(hub: Hub, store: Store, broker: Any) -> None:
    will = ("carehub/v1/devices/w-1/status", b'{"state": "offline"}')
    dev = MqttTestClient(broker.url, client_id=f"w-1-{uuid.uuid4().hex[:8]}", will=will)
    dev.connect()
    try:
        birth = json.dumps({"state": "online", "ts": time.time()}).encode()
        dev.publish("carehub/v1/devices/w-1/status", birth, 1, True)
        await eventually("online", lambda: store.get_device_state("w-1").online is True)
        dev.abort()  # the socket dies without DISCONNECT: the broker publishes the Will
        await eventually("offline", lambda: store.get_device_state("w-1").online is False, 30)
    finally:
        dev.disconnect()
    history = store.status_history("w-1")
    assert [(h.online, h.source) for h in history[:2]] == [(False, "will"), (True, "birth")]


async def test_duplicates_stay_dropped_after_a_restart(hub: Hub, store: Store, broker: Any) -> None:
    with MqttTestClient(broker.url) as dev:
        for seq in (1, 2, 3):
            dev.publish("carehub/v1/devices/w-1/telemetry", _tel(seq), 1)
        await eventually("3 rows", lambda: len(store.telemetry("w-1")) == 3 or None)
    await hub.stop()
    again = Hub(store, _unique(broker.url), settings=SETTINGS, node_id="test-hub")
    await again.start()
    try:
        with MqttTestClient(broker.url) as dev:
            dev.publish("carehub/v1/devices/w-1/telemetry", _tel(3), 1)  # redelivered copy
            dev.publish("carehub/v1/devices/w-1/telemetry", _tel(4), 1)
            await eventually("row 4", lambda: len(store.telemetry("w-1")) == 4 or None)
        assert [r.seq for r in store.telemetry("w-1")] == [1, 2, 3, 4]
        assert store.count_dead_letters() == {}
        assert again.metrics.duplicates._value.get() == 1
    finally:
        await again.stop()
        await hub.start()  # the fixture stops it again


async def test_health_and_metrics_endpoints(hub: Hub, broker: Any) -> None:
    with MqttTestClient(broker.url) as dev:
        dev.subscribe(HUB_STATUS_TOPIC)
        [birth] = await asyncio.to_thread(dev.wait_for, lambda m: m.topic == HUB_STATUS_TOPIC)
        assert json.loads(birth.payload)["state"] == "online"
        dev.publish("carehub/v1/devices/w-1/telemetry", b"garbage", 1)
        transport = httpx.ASGITransport(app=create_app(hub))
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            await eventually("a dead letter", lambda: hub.metrics.dead_letters._value.get() >= 1)
            health = await client.get("/healthz")
            assert health.status_code == 200
            assert health.json()["ok"] is True
            metrics = (await client.get("/metrics")).text
    assert 'carehub_messages_refused_total{reason="json_invalid"} 1.0' in metrics
    assert "carehub_batch_write_seconds_bucket" in metrics
    assert "carehub_queue_depth" in metrics


class StallingStore:
    """The store, except that batch writes wait while ``open`` is clear (a slow disk, a
    database that stopped answering)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.open = threading.Event()
        self.open.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_batch(self, batch: Any) -> None:
        self.open.wait(30)
        self._store.write_batch(batch)


async def test_a_stalled_store_is_not_silence_but_silence_is(store: Store, broker: Any) -> None:
    """On a clock 600 times faster, a wearable (every 60 s) is silent after 0.3 s of wall
    time; the store stalls for 1 s while the wearable keeps sending. Its messages wait in
    the hub, so it is not reported offline; once it really stops, it is."""
    _registry(store)
    speed, base = 600.0, time.time()

    def clock() -> float:
        return base + (time.time() - base) * speed

    stalling = StallingStore(store)
    settings = HubSettings(batch_max_delay_s=0.02, registry_refresh_s=0.2, detect_tick_s=0.02)
    hub = Hub(stalling, _unique(broker.url), settings=settings, clock=clock, node_id="test-hub")  # type: ignore[arg-type]
    await hub.start()
    seq = 0

    async def send_for(dev: MqttTestClient, wall_s: float) -> None:
        nonlocal seq
        until = time.monotonic() + wall_s
        while time.monotonic() < until:
            seq += 1
            msg = {"ts": clock(), "seq": seq, "hr": 72}
            dev.publish("carehub/v1/devices/w-1/telemetry", json.dumps(msg).encode(), 1)
            await asyncio.sleep(0.03)  # 18 simulated seconds

    try:
        with MqttTestClient(broker.url) as dev:
            await send_for(dev, 0.3)
            await eventually("rows", lambda: len(store.telemetry("w-1")) >= 3)
            stalling.open.clear()
            await send_for(dev, 1.0)  # ten minutes on the hub's clock, nothing committed
            stalling.open.set()
            await send_for(dev, 0.3)
            await hub.pipeline.flush()
            await hub.detection.flush()
            assert store.findings(device_id="w-1", kind="device_offline") == []
            assert len(store.telemetry("w-1")) == seq  # nothing was lost
        found = await eventually(  # the wearable stopped: silence after 0.3 s wall
            "device_offline", lambda: store.findings(device_id="w-1", kind="device_offline")
        )
        assert found[0].evidence["source"] == "silence"
    finally:
        await hub.stop()
