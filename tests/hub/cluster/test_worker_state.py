"""A worker's health endpoints and the state it keeps: ``/readyz`` lists the partitions it
holds (live or replaying), ``/metrics`` counts them, and when a joining worker takes half of
them the detectors' state of those partitions' devices and residents is released."""

from __future__ import annotations

import httpx
import pytest

from carehub.cluster import ClusterWorker
from carehub.cluster_health import HealthServer
from hub.broker.embedded import free_port
from hub.cluster.partition import partition_of
from hub.settings import HubSettings
from hub.store.postgres import PostgresStore
from tests.fixtures.nats import NatsProcess
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.postgres]

PARTITIONS = 8
RESIDENTS = 16


def watched_here(node: ClusterWorker) -> int:
    """Residents (one wearable each) in the partitions ``node`` holds."""
    held = node.worker.held
    return sum(1 for i in range(RESIDENTS) if partition_of(f"r-{i}", PARTITIONS) in held)


@pytest.fixture
def residents() -> int:
    return RESIDENTS


async def test_readiness_and_state_follow_the_partitions_held(
    registered: PostgresStore, nats_server: NatsProcess
) -> None:
    store = registered
    s = HubSettings(
        nats_url=nats_server.url, partitions=PARTITIONS, lease_ttl_s=2.0,
        detect_tick_s=0.5, registry_refresh_s=1.0, health_probe_s=0.5,
    )  # fmt: skip
    a = ClusterWorker(store, s, worker_id="wa")
    b = ClusterWorker(store, s, worker_id="wb")
    port = free_port()
    health = HealthServer("127.0.0.1", port, a.readiness, a.worker.metrics, a.refresh_gauges)
    base = f"http://127.0.0.1:{port}"
    await a.start()
    await health.start()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            assert (await http.get("/healthz")).status_code == 200
            await eventually("a holding every partition", lambda: len(a.worker.runs) == PARTITIONS)
            r = await http.get("/readyz")
            assert r.status_code == 200, r.text
            ready = r.json()
            assert ready["not_ready"] == []
            assert sorted(ready["partitions"], key=int) == [str(p) for p in range(PARTITIONS)]
            assert {p["state"] for p in ready["partitions"].values()} == {"live"}
            assert ready["detection"]["devices"] == RESIDENTS
            assert ready["detection"]["activity"] == RESIDENTS
            metrics = (await http.get("/metrics")).text
            assert f"carehub_partitions_live {float(PARTITIONS)}" in metrics

            await b.start()  # b joins: a gives back half, and what it knew of them
            await eventually(
                "the partitions split",
                lambda: len(a.worker.runs) == len(b.worker.runs) == PARTITIONS // 2,
            )
            mine = watched_here(a)
            assert 0 < mine < RESIDENTS
            await eventually(
                "a's detectors holding only its own devices",
                lambda: a.worker.detection.detection.watched()["devices"] == mine,
            )
            seen = a.worker.detection.detection.watched()
            assert seen["residents"] == seen["activity"] == mine
            assert seen["device_health"] == mine
            assert b.worker.detection.detection.watched()["devices"] == RESIDENTS - mine
            ready = (await http.get("/readyz")).json()
            assert len(ready["partitions"]) == PARTITIONS // 2
            assert ready["detection"]["devices"] == mine
    finally:
        await health.stop()
        await b.stop()
        await a.stop()
