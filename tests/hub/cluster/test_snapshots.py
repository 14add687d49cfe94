"""Partition snapshots: a worker writes its slow models (the activity routine) with the
partition's stream sequence, fenced by its epoch; the partition's next owner restores them
and replays only the tail of the stream after that sequence."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from hub.cluster.envelope import headers_for
from hub.cluster.jetstream import connect, ensure_stream
from hub.cluster.partition import subject
from hub.cluster.worker import Worker
from hub.errors import Fenced
from hub.settings import HubSettings
from hub.store.base import PartitionSnapshot
from hub.store.postgres import PostgresStore
from tests.fixtures.nats import NatsProcess
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.postgres]

ROUTINE = {
    "num": [float(h % 7) for h in range(24)], "num_exit": [0.5] * 24, "den": [9.0] * 24,
    "days": 9, "getups": [25_200.0, 25_800.0, 24_900.0], "since": 1.0,
}  # fmt: skip


async def publish(js: object, first: int, count: int) -> None:
    for seq in range(first, first + count):
        now = time.time()
        body = json.dumps({"ts": round(now, 3), "seq": seq, "hr": 70.0}).encode()
        topic = "carehub/v1/devices/w-0/telemetry"
        headers = headers_for(topic, qos=1, retain=False, received_at=now)
        await js.publish(subject(0, "w-0", "telemetry"), body, headers=headers)  # type: ignore[attr-defined]


@pytest.fixture
def residents() -> int:
    return 1  # r-0 wearing w-0


async def test_a_moved_partition_replays_only_the_tail_and_keeps_the_routine(
    registered: PostgresStore, nats_server: NatsProcess
) -> None:
    store = registered
    s = HubSettings(
        nats_url=nats_server.url, partitions=1, lease_ttl_s=2.0, detect_tick_s=0.2,
        batch_max_delay_s=0.05, snapshot_s=0,  # taken by hand below
    )  # fmt: skip
    nc = await connect(s.nats_url, name="test")
    js = nc.jetstream()
    await ensure_stream(js)
    a = Worker(store, s, worker_id="wa")
    b = Worker(store, s, worker_id="wb")
    running: list[Worker] = []
    try:
        await a.start()
        running.append(a)
        await eventually("a detecting on the partition", lambda: a.warmups)
        # what a learned over days (given here; the detector's own learning has its tests)
        a.detection.detection.activity.restore_learned("r-0", ROUTINE, time.time())
        await publish(js, 1, 20)
        await eventually("20 readings through a", lambda: a.snapshots.through.get(0) == 20)
        assert await a.snapshots.take(0)
        epoch_a = a.held[0]
        await publish(js, 21, 7)  # the tail, after the snapshot
        await eventually("the tail through a", lambda: a.snapshots.through.get(0) == 27)
        running.remove(a)
        await a.stop()  # gives the partition back

        await b.start()
        running.append(b)
        await eventually("b detecting on the partition", lambda: b.warmups)
        assert b.snapshots.restored == {0: 20}
        assert b.replayed == {0: 7}
        activity = b.detection.detection.activity
        assert activity.days_learned("r-0") == 9
        learned = activity.learned("r-0")
        assert learned is not None
        np.testing.assert_allclose(learned["num"], ROUTINE["num"])
        assert learned["getups"] == ROUTINE["getups"]
        # a, gone, cannot overwrite b's snapshots: its epoch is stale
        with pytest.raises(Fenced):
            store.write_snapshot_fenced(PartitionSnapshot(0, epoch_a, 99, time.time(), {}))
        snap = store.partition_snapshot(0)
        assert snap is not None
        assert (snap.epoch, snap.stream_seq) == (epoch_a, 20)
        assert snap.state["activity"]["r-0"]["days"] == 9
    finally:
        for w in running:
            await w.stop()
        await nc.close()
