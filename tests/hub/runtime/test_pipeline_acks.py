"""QoS 1 telemetry is acknowledged to the broker only once it is stored: while the store is
down nothing is acknowledged (the broker keeps it), and each reading is acknowledged after
the commit that holds it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from hub.errors import StoreUnavailable
from hub.ingest.core import Ingest
from hub.metrics import HubMetrics
from hub.runtime.pipeline import Pipeline
from hub.store.base import IngestBatch, Store
from tests.helpers.messages import NOW, Msg
from tests.helpers.registry import add_wearers
from tests.hub.runtime.test_pipeline_poison import FakeSource

TELEMETRY = "carehub/v1/devices/{}/telemetry"


class OutageStore:
    """The store, unavailable until ``up`` is set; records what each commit held."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.up = False
        self.failures = 0
        self.committed: list[tuple[str, int]] = []
        self.acked_at_commit: list[int] = []
        self.source: FakeSource | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_batch(self, batch: IngestBatch) -> list[int]:
        if not self.up:
            self.failures += 1
            raise StoreUnavailable("write batch: connection refused")
        result = self._store.write_batch(batch)
        assert self.source is not None
        self.acked_at_commit.append(len(self.source.acked))
        self.committed += [(r.device_id, r.seq) for r in batch.telemetry]
        return result


def _reading(device_id: str, seq: int, qos: int = 1) -> Msg:
    payload = json.dumps({"ts": NOW + seq, "seq": seq, "hr": 70 + seq % 20}).encode()
    return Msg(TELEMETRY.format(device_id), payload, qos=qos, received_at=NOW + seq, mid=seq)


@pytest.fixture
def home(store: Store) -> Store:
    add_wearers(store, 2)
    return store


async def test_qos1_telemetry_is_acknowledged_only_after_its_commit(home: Store) -> None:
    outage = OutageStore(home)
    source = FakeSource()
    outage.source = source
    pipeline = Pipeline(
        outage,
        source,
        Ingest(metrics=HubMetrics(), clock=lambda: NOW),
        max_delay_s=0.01,
        clock=lambda: NOW,
    )
    await pipeline.start()
    qos1 = [_reading("w-1", i) for i in range(1, 41)]
    qos0 = [_reading("w-2", i, qos=0) for i in range(1, 11)]
    for msg in qos1 + qos0:
        source.queue.put_nowait(msg)
    try:
        async with asyncio.timeout(10):
            while outage.failures < 3:  # noqa: ASYNC110 - the writer is retrying the batch
                await asyncio.sleep(0.01)
        assert source.acked == []  # the store is down: the broker must keep every reading

        outage.up = True
        source.expected = len(qos1)
        async with asyncio.timeout(30):
            await source.all_acked.wait()
            await pipeline.flush()
    finally:
        await pipeline.stop()

    assert sorted(source.acked, key=lambda m: m.mid) == qos1  # QoS 0 acknowledges nothing
    assert outage.acked_at_commit[0] == 0  # nothing was acknowledged before the first commit
    stored = {(r.device_id, r.seq) for r in home.telemetry("w-1")} | {
        (r.device_id, r.seq) for r in home.telemetry("w-2")
    }
    assert stored == {("w-1", i) for i in range(1, 41)} | {("w-2", i) for i in range(1, 11)}
