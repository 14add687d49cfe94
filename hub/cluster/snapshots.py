"""A worker's partition snapshots: the slow detector models with their stream sequence.

Every ``snapshot_s`` the worker writes, for each partition it holds live, what its
detectors learned slowly for the partition's residents and devices (:mod:`hub.detect.snapshot`:
activity routines, drift baselines) together with the highest stream sequence that went
through detection and was acknowledged, in one transaction fenced by the partition's epoch
(:meth:`hub.store.base.SnapshotStore.write_snapshot_fenced`): a worker that lost the
partition cannot overwrite its new owner's snapshot.

A worker claiming the partition restores the snapshot before replaying, and replays the
stream only after its sequence (still no further back than ``detect_warmup_s``): the tail,
not the horizon. Messages just after the sequence may already have touched the models when
the snapshot was taken (detection runs ahead of the acknowledgements); the models kept are
hourly and daily aggregates, which a few messages seen twice do not move.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from hub.cluster.partition import partition_of
from hub.detect import snapshot
from hub.errors import Fenced
from hub.store.base import PartitionSnapshot, SnapshotStore

if TYPE_CHECKING:
    from hub.cluster.worker import Worker

log = logging.getLogger(__name__)


class Snapshots:
    """See the module docstring; one per worker."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.through: dict[int, int] = {}
        """partition → highest stream sequence acknowledged (through detection)."""
        self.taken: dict[int, int] = {}
        """partition → stream sequence of the last snapshot written."""
        self.restored: dict[int, int] = {}
        """partition → stream sequence of the snapshot restored at its claim."""
        self.written = 0

    def acked(self, partition: int, seq: int) -> None:
        if seq > self.through.get(partition, 0):
            self.through[partition] = seq

    def forget(self, partition: int) -> None:
        for held in (self.through, self.taken, self.restored):
            held.pop(partition, None)

    async def run(self) -> None:
        """Snapshot every live partition every ``snapshot_s`` (when it moved on)."""
        every = self.worker.settings.snapshot_s
        while True:
            await asyncio.sleep(every)
            for part in sorted(self.worker.runs):
                try:
                    await self.take(part)
                except Exception:
                    log.exception("partition %d: snapshot failed", part)

    async def take(self, part: int) -> bool:
        """Write the partition's snapshot now; False when there was nothing new or the
        partition was lost meanwhile."""
        w = self.worker
        epoch = w.held.get(part)
        seq = self.through.get(part, 0)
        if epoch is None or seq <= self.taken.get(part, 0):
            return False
        parts = w.settings.partitions
        detection = w.detection.detection
        devices = [d for d in detection.devices if w.router.partition(d) == part]
        residents = [r for r in detection.residents if partition_of(r, parts) == part]
        state = snapshot.take(detection, devices, residents)
        snap = PartitionSnapshot(part, epoch, seq, time.time(), state)
        store: SnapshotStore = w.store  # type: ignore[assignment]
        try:
            await asyncio.to_thread(store.write_snapshot_fenced, snap)
        except Fenced:
            w.lost_threadsafe(part, epoch)
            return False
        self.taken[part] = seq
        self.written += 1
        log.info("partition %d: snapshot at stream seq %d (%d routines, %d baselines)",
                 part, seq, len(state["activity"]), len(state["drift"]))  # fmt: skip
        return True

    async def restore(self, part: int, start: int) -> PartitionSnapshot | None:
        """Give the partition's snapshot to the detectors when it is older than ``start``
        (where live consumption begins); the snapshot, or None."""
        store: SnapshotStore = self.worker.store  # type: ignore[assignment]
        snap = await asyncio.to_thread(store.partition_snapshot, part)
        if snap is None or snap.stream_seq >= start:
            return None
        n = snapshot.restore(self.worker.detection.detection, snap.state, self.worker.clock())
        self.restored[part] = snap.stream_seq
        self.taken[part] = snap.stream_seq
        log.info("partition %d: %d models restored from the snapshot at stream seq %d",
                 part, n, snap.stream_seq)  # fmt: skip
        return snap
