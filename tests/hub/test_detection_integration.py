"""Detection inside the running hub: messages published over MQTT become stored findings
with the right resident, kind, priority and reasons."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from carehub.serve import Hub
from hub.registry.provisioning import provision_device
from hub.store.base import Device, FindingRow, Resident, Store
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.waiting import eventually
from tests.helpers.hubs import running_hub
from tests.helpers.registry import add_station
from tests.hub.detect.test_falls import fall_signal

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


@pytest.fixture
async def hub(store: Store, mosquitto: Any) -> AsyncIterator[Hub]:
    add_station(store)
    store.add_resident(Resident("r-1", "st-1", "王秀英"))
    # The synthetic fall is a trunk signal: provisioned at the waist, the hub judges it with
    # its trunk model (a wearable of unknown position counts as a wristband).
    provision_device(
        store, Device("w-1", "wearable", resident_id="r-1", interval_s=60, worn_at="waist")
    )
    provision_device(store, Device("gw-1", "gateway", resident_id="r-1"))
    provision_device(store, Device("smoke-1", "smoke", gateway_id="gw-1"))
    async with running_hub(store, mosquitto.url, detect_tick_s=0.2) as h:
        yield h


def _kinds(store: Store) -> dict[str, FindingRow]:
    return {f.kind: f for f in store.findings(limit=50)}


async def test_published_incidents_become_findings(hub: Hub, store: Store, mosquitto: Any) -> None:
    now = time.time()
    hz = 50.0
    signal = fall_signal(hz=hz, lie_s=8.0)
    t0 = now - len(signal) / hz
    with MqttTestClient(mosquitto.url) as dev:
        # the wearable streams its accelerometer in 1 s bursts, as a device would
        step = int(hz)
        for seq, start in enumerate(range(0, len(signal), step), start=1):
            at = t0 + start / hz
            burst = signal[start : start + step].round(4).tolist()
            body = {"ts": at, "seq": seq, "acc": {"t0": at, "hz": hz, "g": burst}}
            dev.publish("carehub/v1/devices/w-1/telemetry", json.dumps(body).encode(), 0)
        sos = {"ts": now, "seq": 1000, "type": "sos", "press": "long"}
        dev.publish("carehub/v1/devices/w-1/event", json.dumps(sos).encode(), 1)
        smoke = {"ts": now, "seq": 1, "type": "smoke", "alarm": True, "room": "kitchen"}
        dev.publish("carehub/v1/gateways/gw-1/devices/smoke-1/event", json.dumps(smoke).encode(), 1)
        found = await eventually(
            "fall, sos and smoke findings",
            lambda: (k := _kinds(store)) and {"fall", "sos", "smoke"} <= k.keys() and k,
        )
    fall, sos, smoke_f = found["fall"], found["sos"], found["smoke"]
    assert (fall.resident_id, fall.device_id, fall.priority) == ("r-1", "w-1", "high")
    assert fall.reason["zh-CN"]
    assert fall.reason["en"]
    assert sos.priority == "high"
    # the smoke sensor hangs off the resident's gateway: the finding is still theirs
    assert (smoke_f.resident_id, smoke_f.device_id, smoke_f.priority) == ("r-1", "smoke-1", "high")
    assert hub.metrics.findings.labels("smoke", "high")._value.get() == 1


async def test_last_will_becomes_a_device_offline_finding(
    hub: Hub, store: Store, mosquitto: Any
) -> None:
    will = ("carehub/v1/devices/w-1/status", b'{"state": "offline"}')
    dev = MqttTestClient(mosquitto.url, client_id=f"w-1-{time.time_ns()}", will=will)
    dev.connect()
    try:
        birth = {"state": "online", "ts": time.time(), "interval_s": 60}
        dev.publish("carehub/v1/devices/w-1/status", json.dumps(birth).encode(), 1, True)
        await eventually("online", lambda: store.get_device_state("w-1").online is True)
        dev.abort()
        offline = await eventually(
            "device_offline finding", lambda: store.findings(kind="device_offline")
        )
    finally:
        dev.disconnect()
    assert offline[0].device_id == "w-1"
    assert offline[0].resident_id == "r-1"
