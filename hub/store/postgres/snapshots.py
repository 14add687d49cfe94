"""Partition snapshots (migration 0018), fenced like every commit of a cluster worker
(:mod:`hub.store.postgres.fencing`); the protocol is :class:`hub.store.base.SnapshotStore`."""

from __future__ import annotations

from psycopg.types.json import Json

from hub.store.base import PartitionSnapshot
from hub.store.postgres.codec import to_dt
from hub.store.postgres.connection import PostgresBase
from hub.store.postgres.fencing import check_fence


class PostgresSnapshots(PostgresBase):
    """See the module docstring."""

    def write_snapshot_fenced(self, snapshot: PartitionSnapshot) -> None:
        s = snapshot
        with self._conn("write partition snapshot") as conn, conn.cursor() as cur:
            check_fence(cur, {s.partition: (s.epoch, 0)})
            cur.execute(
                "INSERT INTO partition_snapshot (partition, epoch, stream_seq, taken_at, state)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (partition) DO UPDATE SET"
                " epoch = excluded.epoch, stream_seq = excluded.stream_seq,"
                " taken_at = excluded.taken_at, state = excluded.state",
                (s.partition, s.epoch, s.stream_seq, to_dt(s.taken_at), Json(s.state)),
            )

    def partition_snapshot(self, partition: int) -> PartitionSnapshot | None:
        with self._conn("read partition snapshot") as conn:
            row = conn.execute(
                "SELECT epoch, stream_seq, taken_at, state FROM partition_snapshot"
                " WHERE partition = %s",
                (partition,),
            ).fetchone()
        if row is None:
            return None
        return PartitionSnapshot(partition, row[0], row[1], row[2].timestamp(), row[3])
