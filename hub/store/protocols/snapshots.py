"""Partition snapshots of slow detector models (PostgreSQL only:
:mod:`hub.store.postgres.snapshots`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class PartitionSnapshot:
    """The slow models of one partition's devices and residents (``state``: plain JSON
    values, :mod:`hub.detect.snapshot`) as they were after stream sequence ``stream_seq``."""

    partition: int
    epoch: int
    stream_seq: int
    taken_at: float
    state: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class SnapshotStore(Protocol):
    """Snapshots written under the partition's epoch, and read back by its next owner."""

    def write_snapshot_fenced(self, snapshot: PartitionSnapshot) -> None:
        """Replace the partition's snapshot in a transaction that checks its epoch (as
        :meth:`FencingStore.write_batch_fenced`); raises :class:`hub.errors.Fenced`, writing
        nothing, when another worker has claimed the partition since."""
        ...

    def partition_snapshot(self, partition: int) -> PartitionSnapshot | None:
        """The partition's latest snapshot, or None."""
        ...
