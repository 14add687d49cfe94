"""Cluster fencing (PostgreSQL only: :mod:`hub.store.postgres.fencing`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from hub.store.protocols.findings import FindingRow
from hub.store.protocols.ingest import IngestBatch

PartitionFence = Mapping[int, tuple[int, int]]
"""partition → (epoch, last stream sequence) that a commit carries."""


@runtime_checkable
class FencingStore(Protocol):
    """What a cluster worker needs beyond :class:`hub.store.base.Store`: commits that carry
    each partition's epoch and last stream sequence in the same transaction and are refused
    (:class:`hub.errors.Fenced`) when another worker has claimed the partition since."""

    def claim_partition(self, partition: int, epoch: int, owner: str, at: float) -> bool:
        """Record ``owner`` as the holder of ``partition`` under ``epoch``; False when the
        store already knows a newer epoch (this claim is stale)."""
        ...

    def write_batch_fenced(self, batch: IngestBatch, fence: PartitionFence) -> list[int]:
        """:meth:`Store.write_batch` in a transaction that first checks and advances every
        partition of ``fence``; raises :class:`hub.errors.Fenced` (nothing written) when
        one of them has a newer epoch."""
        ...

    def write_findings_fenced(
        self, rows: Sequence[FindingRow], fence: PartitionFence
    ) -> list[int | None]:
        """:meth:`Store.write_findings` under ``fence``, skipping rows already stored (same
        device, kind and time: a message redelivered to the partition's next owner); their
        id is None. Raises :class:`hub.errors.Fenced`."""
        ...

    def partition_fences(self) -> dict[int, tuple[int, str, int]]:
        """partition → (epoch, owner, committed stream sequence)."""
        ...
