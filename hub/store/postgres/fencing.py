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

That lock is also why a claim must not wait on a frozen previous owner: a worker stopped
(SIGSTOP, a VM paused, a stalled disk) in the middle of a commit keeps the row locked for as
long as it is stopped, and the new owner's claim would wait as long. A claim waits
:data:`CLAIM_LOCK_WAIT_S` for the row; past that it ends the sessions of the row's recorded
owner that are inside a transaction (worker sessions carry ``application_name``
``carehub-worker-<id>``, :func:`worker_session_url`) and tries again. Their transactions
roll back: what they held was never acknowledged to the stream, so the new owner reads it
again from the partition's ``committed_seq``.

A mixin of :class:`hub.store.postgres.PostgresStore` (it uses the store's ``_conn``, its
batch writer and its findings insert); the protocol is
:class:`hub.store.base.FencingStore`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import psycopg.errors

from hub.errors import Fenced
from hub.store.base import FindingRow, IngestBatch, PartitionFence
from hub.store.postgres.codec import to_dt
from hub.store.postgres.errors import DRIVER_ERRORS, convert
from hub.store.postgres.findings import insert_findings
from hub.store.postgres.ingest import PostgresIngest

log = logging.getLogger(__name__)

CLAIM_LOCK_WAIT_S = 2.0
"""How long a claim waits for the partition's row before it ends the previous owner's
sessions that hold it."""
CLAIM_ATTEMPTS = 4
WORKER_SESSION_PREFIX = "carehub-worker-"


def worker_session_url(url: str, worker_id: str) -> str:
    """``url`` with the ``application_name`` that marks a worker's sessions (an existing
    one is kept).

    >>> worker_session_url("postgresql://h/db?sslmode=disable", "w1")
    'postgresql://h/db?sslmode=disable&application_name=carehub-worker-w1'
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k == "application_name" for k, _ in query):
        return url
    query.append(("application_name", f"{WORKER_SESSION_PREFIX}{worker_id}"[:63]))
    return urlunsplit(parts._replace(query=urlencode(query)))


class PostgresFencing(PostgresIngest):
    """See the module docstring."""

    def claim_partition(self, partition: int, epoch: int, owner: str, at: float) -> bool:
        for attempt in range(CLAIM_ATTEMPTS):
            last = attempt == CLAIM_ATTEMPTS - 1
            try:
                row = self._claim_row(partition, epoch, owner, at, wait=not last)
            except psycopg.errors.LockNotAvailable:
                ended = self._end_previous_owner(partition, owner)
                log.warning(
                    "partition %d: its row stayed locked %.0f s; ended %d session(s) of its"
                    " previous owner", partition, CLAIM_LOCK_WAIT_S, ended,
                )  # fmt: skip
            except DRIVER_ERRORS as exc:
                raise convert(exc, "claim partition") from exc
            else:
                return row is not None
        raise AssertionError("unreachable: the last attempt has no lock timeout")

    def _claim_row(
        self, partition: int, epoch: int, owner: str, at: float, *, wait: bool
    ) -> tuple[Any, ...] | None:
        with self._pool.connection() as conn, conn.transaction():
            if wait:  # the last attempt waits as long as it takes
                conn.execute(f"SET LOCAL lock_timeout = {int(CLAIM_LOCK_WAIT_S * 1000)}")
            return conn.execute(
                "INSERT INTO partition_fence (partition, epoch, owner, claimed_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (partition) DO UPDATE SET"
                " epoch = excluded.epoch, owner = excluded.owner,"
                " claimed_at = excluded.claimed_at"
                " WHERE partition_fence.epoch < excluded.epoch RETURNING epoch",
                (partition, epoch, owner, to_dt(at)),
            ).fetchone()

    def _end_previous_owner(self, partition: int, owner: str) -> int:
        """End the sessions of the partition's recorded owner (not ``owner``) that are
        inside a transaction; how many."""
        with self._conn("end the previous owner's sessions") as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a"
                " JOIN partition_fence f ON a.application_name = left(%s || f.owner, 63)"
                " WHERE f.partition = %s AND f.owner <> %s AND a.xact_start IS NOT NULL"
                " AND a.pid <> pg_backend_pid()",
                (WORKER_SESSION_PREFIX, partition, owner),
            ).fetchall()
        return sum(1 for (ok,) in rows if ok)

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
