"""The cluster mode end to end, in one process: a bridge, workers, JetStream, PostgreSQL.

Devices publish through a real Mosquitto; ``carehub bridge``'s :class:`Bridge` moves their
messages to a real nats-server; :class:`ClusterWorker` instances claim the partitions and
alert. A worker that stops without a word (its leases lapse) hands its partitions to the
others, messages it had fetched but not acknowledged included.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from carehub.cluster import ClusterWorker
from hub.cluster.bridge import Bridge, Router, shared
from hub.cluster.jetstream import connect, ensure_stream
from hub.contract.topics import subscriptions
from hub.settings import HubSettings
from hub.store.postgres import PostgresStore
from hub.tasks import cancel_and_wait
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.nats import NatsProcess
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

PARTITIONS = 8
RESIDENTS = 8  # the default of conftest's ``residents``


def settings(nats: NatsProcess, mqtt_url: str) -> HubSettings:
    return HubSettings(
        nats_url=nats.url, mqtt_url=mqtt_url, partitions=PARTITIONS, lease_ttl_s=2.0,
        batch_max_delay_s=0.05, detect_tick_s=0.5, registry_refresh_s=1.0,
    )  # fmt: skip


@asynccontextmanager
async def bridge(s: HubSettings, store: PostgresStore) -> AsyncIterator[Bridge]:
    from hub.mqtt.adapter import MqttAdapter, MqttSettings

    adapter = MqttAdapter(
        # a session that ends with the test: the shared Mosquitto would otherwise keep queueing
        # a share of the devices' messages for a bridge that never comes back
        MqttSettings.from_url(
            f"{s.mqtt_url}?client_id=bridge-{time.time_ns()}&clean_start=true&session_expiry=0"
        ),
        subscriptions=shared(subscriptions()),
    )
    nc = await connect(s.nats_url, name="bridge")
    js = nc.jetstream()
    await ensure_stream(js)
    b = Bridge(adapter, js, Router(s.partitions), devices=store.list_devices, refresh_s=1.0)
    await adapter.start()
    task = asyncio.create_task(b.run())
    try:
        yield b
    finally:
        await cancel_and_wait(task)
        await adapter.stop()
        await nc.close()


async def halves(a: ClusterWorker, b: ClusterWorker) -> None:
    await eventually(
        "both workers holding half of the partitions",
        lambda: len(a.worker.runs) == len(b.worker.runs) == PARTITIONS // 2,
        within=20,
    )


async def crash(node: ClusterWorker) -> None:
    """Stop a worker as a SIGKILL would: no release, no acknowledgement, no more writes."""
    w = node.worker
    await asyncio.to_thread(w.keeper.stop, release=False)
    for run in list(w.runs.values()):
        if run.fetching is not None:
            run.fetching.cancel()
        await run.pipeline.abandon()
    w.runs.clear()
    w.held.clear()
    for task in w._tasks:
        task.cancel()
    await w.detection.stop()
    await w._nc.close()
    await node._lost(0)
    await node._webhooks.aclose()


def sos(client: MqttTestClient, device: str, seq: int, ts: float | None = None) -> None:
    ts = round(time.time(), 3) if ts is None else ts
    payload = {"ts": ts, "seq": seq, "type": "sos", "press": "long"}
    client.publish(f"carehub/v1/devices/{device}/event", json.dumps(payload).encode(), 1)


def sos_count(store: PostgresStore) -> tuple[int, int]:
    return len(store.list_alerts(kind="sos")), len(store.findings(kind="sos"))


async def test_partitions_spread_and_every_sos_is_alerted_once(
    registered: PostgresStore, mosquitto: Any, nats_server: NatsProcess
) -> None:
    store = registered
    s = settings(nats_server, mosquitto.url)
    a = ClusterWorker(store, s, worker_id="wa")
    b = ClusterWorker(store, s, worker_id="wb")
    async with bridge(s, store) as br:
        await a.start()
        await b.start()
        try:
            await halves(a, b)
            dev = MqttTestClient(mosquitto.url)
            await asyncio.to_thread(dev.connect)
            try:
                ts = round(time.time(), 3)
                for i in range(RESIDENTS):
                    await asyncio.to_thread(sos, dev, f"w-{i}", 1, ts)
                    await asyncio.to_thread(sos, dev, f"w-{i}", 1, ts)  # a resend: one alarm
            finally:
                await asyncio.to_thread(dev.disconnect)
            await eventually(
                "every SOS alerted", lambda: sos_count(store) == (RESIDENTS, RESIDENTS)
            )
            assert br.published == RESIDENTS
            assert br.duplicates == RESIDENTS  # JetStream's duplicate window
            fences = store.partition_fences()
            assert {o for _e, o, _s in fences.values()} == {"wa", "wb"}
            # one visit keeper for the cluster: the worker running the alert timers
            timers, other = (a, b) if 0 in a.worker.runs else (b, a)
            assert timers.visits._task is not None and other.visits._task is None
        finally:
            await a.stop()
            await b.stop()
    assert sos_count(store) == (RESIDENTS, RESIDENTS)


async def test_a_crashed_workers_partitions_are_taken_over(
    registered: PostgresStore, mosquitto: Any, nats_server: NatsProcess
) -> None:
    store = registered
    s = settings(nats_server, mosquitto.url)
    a = ClusterWorker(store, s, worker_id="wa")
    b = ClusterWorker(store, s, worker_id="wb")
    async with bridge(s, store):
        await a.start()
        await b.start()
        try:
            await halves(a, b)
            lost = set(a.worker.runs)
            await crash(a)
            crashed_at = time.monotonic()
            dev = MqttTestClient(mosquitto.url)
            await asyncio.to_thread(dev.connect)
            try:
                for i in range(RESIDENTS):  # half of them in the crashed worker's partitions
                    await asyncio.to_thread(sos, dev, f"w-{i}", 5)
                await eventually(
                    "the survivor holding every partition",
                    lambda: len(b.worker.runs) == PARTITIONS,
                    within=20,
                )
                assert b.visits._task is not None  # partition 0 and its housekeeping
                await eventually(
                    "every SOS alerted", lambda: sos_count(store) == (RESIDENTS, RESIDENTS)
                )
                took = time.monotonic() - crashed_at
            finally:
                await asyncio.to_thread(dev.disconnect)
            assert took < s.lease_ttl_s + 5
            fences = store.partition_fences()
            assert all(fences[p][1] == "wb" for p in lost)
        finally:
            await b.stop()
    assert sos_count(store) == (RESIDENTS, RESIDENTS)
