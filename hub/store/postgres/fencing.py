"""Fenced commits for cluster workers (``carehub worker``), on PostgreSQL.

A worker claims a partition of the device stream with a lease whose revision is its
**epoch** (strictly larger at every claim). :meth:`PostgresFencing.claim_partition` records
it in ``partition_fence`` (migration 0014); every commit of the worker for that partition
then updates the partition's row *matching that epoch* in the same transaction, advancing
``committed_seq`` to the last stream sequence of the batch. A worker that lost the
partition (paused past its lease, cut off from NATS) matches no row: its transaction is
rolled back with :class:`hub.errors.Fenced`. The row update also takes the row's lock, so
the commits of one partition are serialised, which makes the "already stored" check of
:meth:`write_findings_fenced` safe.

A mixin of :class:`hub.store.postgres.PostgresStore` (it uses the store's ``_conn``, its
batch writer and its findings insert); the protocol is
:class:`hub.store.base.FencingStore`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from hub.errors import Fenced
from hub.store.base import FindingRow, IngestBatch, PartitionFence
from hub.store.postgres.codec import to_dt
from hub.store.postgres.findings import insert_findings
from hub.store.postgres.ingest import PostgresIngest


class PostgresFencing(PostgresIngest):
    """See the module docstring."""

    def claim_partition(self, partition: int, epoch: int, owner: str, at: float) -> bool:
        with self._conn("claim partition") as conn:
            row = conn.execute(
                "INSERT INTO partition_fence (partition, epoch, owner, claimed_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (partition) DO UPDATE SET"
                " epoch = excluded.epoch, owner = excluded.owner,"
                " claimed_at = excluded.claimed_at"
                " WHERE partition_fence.epoch < excluded.epoch RETURNING epoch",
                (partition, epoch, owner, to_dt(at)),
            ).fetchone()
        return row is not None

    def write_batch_fenced(self, batch: IngestBatch, fence: PartitionFence) -> list[int]:
        with self._conn("write batch (fenced)") as conn, conn.cursor() as cur:
            check_fence(cur, fence)
            return self._write_batch_rows(conn, cur, batch)

    def write_findings_fenced(
        self, rows: Sequence[FindingRow], fence: PartitionFence
    ) -> list[int | None]:
        with self._conn("write findings (fenced)") as conn, conn.cursor() as cur:
            check_fence(cur, fence)
            if not rows:
                return []
            stored = {
                (r[0], r[1], round(r[2].timestamp(), 3))
                for r in cur.execute(
                    "SELECT device_id, kind, at FROM findings"
                    " WHERE device_id = ANY(%s) AND at = ANY(%s)",
                    ([f.device_id for f in rows], [to_dt(f.at) for f in rows]),
                )
            }
            new = [f for f in rows if (f.device_id, f.kind, round(f.at, 3)) not in stored]
            ids = iter(insert_findings(cur, new) if new else [])
            kept = {id(f) for f in new}
            return [next(ids) if id(f) in kept else None for f in rows]

    def partition_fences(self) -> dict[int, tuple[int, str, int]]:
        with self._conn("partition fences") as conn:
            rows = conn.execute(
                "SELECT partition, epoch, owner, committed_seq FROM partition_fence"
            ).fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def check_fence(cur: psycopg.Cursor[Any], fence: PartitionFence) -> None:
    """Advance each partition's row under its epoch, in partition order (one lock order for
    every writer); :class:`Fenced` when a row has moved on to a newer epoch."""
    for partition, (epoch, seq) in sorted(fence.items()):
        cur.execute(
            "UPDATE partition_fence SET committed_seq = GREATEST(committed_seq, %s)"
            " WHERE partition = %s AND epoch = %s",
            (seq, partition, epoch),
        )
        if cur.rowcount != 1:
            raise Fenced(partition, epoch)
