"""No alarm is lost when the hub stops between storing a message and alerting on it.

Each test leaves the store as a hub killed at that moment would (a committed SOS that no
detector saw; a stored finding the alert engine never took in), starts a hub on it and
checks the alarm is alerted once — and only once, even after another restart and a
redelivered copy of the message.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from carehub.serve import Hub
from hub.registry.provisioning import provision_device
from hub.runtime.replay import WATERMARK
from hub.settings import HubSettings
from hub.store.base import (
    City,
    Device,
    District,
    EventRow,
    FindingRow,
    IngestBatch,
    Resident,
    Station,
    StatusChange,
    Store,
    TelemetryRow,
)
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


@pytest.fixture
def registered(store: Store) -> Store:
    store.add_city(City("sh", "上海市"))
    store.add_district(District("sh-pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "sh-pd", "花木街道养老服务站"))
    store.add_resident(Resident("r-1", "st-1", "王秀英"))
    provision_device(store, Device("w-1", "wearable", resident_id="r-1"))
    return store


@pytest.fixture
def running(mosquitto: Any) -> Callable[[Store], Any]:
    @asynccontextmanager
    async def run(store: Store) -> AsyncIterator[Hub]:
        settings = HubSettings(batch_max_delay_s=0.05, detect_tick_s=0.2)
        hub = Hub(store, f"{mosquitto.url}?client_id=hub-{time.time_ns()}", settings=settings)
        await hub.start()
        try:
            yield hub
        finally:
            await hub.stop()

    return run


def sample(hub: Hub, name: str) -> float:
    return hub.metrics.registry.get_sample_value(name) or 0.0


def sos_alerts(store: Store) -> list[Any]:
    return store.list_alerts(kind="sos")


async def test_a_committed_sos_no_detector_saw_is_alerted_once(
    registered: Store, running: Callable[[Store], Any], mosquitto: Any
) -> None:
    store = registered
    now = time.time()
    # a hub ran up to here, then stored an SOS and was killed before detection
    store.set_progress(WATERMARK, now - 5)
    sos = EventRow("w-1", 7, now - 2, now - 2, "sos", {"press": "long"})
    store.write_batch(IngestBatch(events=[sos]))
    assert sos_alerts(store) == []

    async with running(store) as hub:
        [alert] = await eventually("the SOS alerted after the restart",
                                   lambda: sos_alerts(store))  # fmt: skip
        assert (alert.priority, alert.resident_id) == ("high", "r-1")
        assert sample(hub, "carehub_replayed_messages_total") == 1
        # the broker redelivers the unacknowledged copy: a duplicate, and no second alert
        dev = MqttTestClient(mosquitto.url)
        await asyncio.to_thread(dev.connect)
        try:
            payload = {"ts": sos.ts, "seq": 7, "type": "sos", "press": "long"}
            await asyncio.to_thread(
                dev.publish, "carehub/v1/devices/w-1/event", json.dumps(payload).encode(), 1
            )
            await eventually("the copy counted as a duplicate",
                             lambda: sample(hub, "carehub_duplicates_dropped_total"))  # fmt: skip
        finally:
            await asyncio.to_thread(dev.disconnect)
        await hub.pipeline.flush()
        await hub.detection.flush()

    async with running(store) as hub:  # a second restart replays nothing new
        await hub.detection.flush()
        assert sample(hub, "carehub_replayed_messages_total") == 0
    assert len(sos_alerts(store)) == 1
    assert len(store.findings(kind="sos")) == 1


async def test_a_finding_the_engine_never_took_in_is_alerted_once(
    registered: Store, running: Callable[[Store], Any]
) -> None:
    store = registered
    now = time.time()
    store.set_progress(WATERMARK, now)
    # the detectors found and stored it; the hub stopped before the alert engine ran
    finding = FindingRow("r-1", "w-1", "fall", "high", now - 3, now - 3,
                         {"peak_g": 3.1}, {"en": "Fall", "zh-CN": "跌倒"})  # fmt: skip
    [fid] = store.write_findings([finding])
    assert [f.id for f in store.unhandled_findings(now - 60)] == [fid]

    async with running(store):
        [alert] = await eventually("the fall alerted after the restart",
                                   lambda: store.list_alerts(kind="fall"))  # fmt: skip
        assert alert.priority == "high"
    assert store.unhandled_findings(now - 60) == []
    async with running(store):
        pass
    assert len(store.list_alerts(kind="fall")) == 1


async def test_a_clean_stop_leaves_nothing_to_replay(
    registered: Store, running: Callable[[Store], Any], mosquitto: Any
) -> None:
    store = registered
    async with running(store) as hub:
        dev = MqttTestClient(mosquitto.url)
        await asyncio.to_thread(dev.connect)
        try:
            sos = {"ts": time.time(), "seq": 1, "type": "sos", "press": "long"}
            await asyncio.to_thread(
                dev.publish, "carehub/v1/devices/w-1/event", json.dumps(sos).encode(), 1
            )
            await eventually("the SOS alerted", lambda: sos_alerts(store))
        finally:
            await asyncio.to_thread(dev.disconnect)
    mark = store.get_progress(WATERMARK)
    assert mark is not None and mark >= store.events(device_id="w-1")[0].received_at
    async with running(store) as hub:
        assert sample(hub, "carehub_replayed_messages_total") == 0
    assert len(sos_alerts(store)) == 1


async def test_a_vital_sign_confirmed_across_a_restart_is_alerted(
    registered: Store, running: Callable[[Store], Any]
) -> None:
    # a heart rate of 140 held for 6 minutes; the hub stopped 4 minutes in, before the
    # 5-minute confirming window was complete, and the readings after went unseen
    store = registered
    now = time.time()
    start = now - 360
    rows = [TelemetryRow("w-1", i, start + 30 * i, start + 30 * i + 0.2, {"hr": 140.0})
            for i in range(12)]  # fmt: skip
    store.write_batch(IngestBatch(telemetry=rows))
    store.set_progress(WATERMARK, start + 240.5)

    async with running(store) as hub:
        # only the 3 readings after the watermark are replayed, but the detectors were
        # warmed up with the 9 before it: the window is complete and the alarm raised
        [alert] = await eventually("the tachycardia alerted after the restart",
                                   lambda: store.list_alerts(kind="vitals"))  # fmt: skip
        assert sample(hub, "carehub_replayed_messages_total") == 3
    assert alert.resident_id == "r-1"


async def test_a_committed_last_will_no_detector_saw_is_alerted(
    registered: Store, running: Callable[[Store], Any]
) -> None:
    store = registered
    now = time.time()
    store.set_progress(WATERMARK, now - 5)
    will = StatusChange("w-1", False, now - 2, "will", {})
    store.write_batch(IngestBatch(status=[will]))  # stored; the hub died before detection

    async with running(store) as hub:
        [alert] = await eventually("the Will alerted after the restart",
                                   lambda: store.list_alerts(kind="device_offline"))  # fmt: skip
        assert alert.device_id == "w-1"
        assert sample(hub, "carehub_replayed_messages_total") == 1
    async with running(store):  # a second restart: nothing more
        pass
    assert len(store.list_alerts(kind="device_offline")) == 1
