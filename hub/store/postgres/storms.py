"""Storm sources (migration 0018); the protocol is :class:`hub.store.base.StormStore`.

Each call takes a transaction-scoped advisory lock on the storm's key first, so the changes
to one storm are serialised across processes: of two workers whose parts clear at the same
moment, exactly one sees that none is left (and resolves the alert).
"""

from __future__ import annotations

from typing import Any

import psycopg

from hub.store.postgres.codec import to_dt
from hub.store.postgres.connection import PostgresBase


class PostgresStorms(PostgresBase):
    """See the module docstring."""

    def join_storm(self, key: str, source: str, devices: int, at: float) -> dict[str, int]:
        with self._conn("join storm") as conn, conn.cursor() as cur:
            _lock(cur, key)
            cur.execute(
                "INSERT INTO storm_sources (storm_key, source, devices, at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (storm_key, source) DO UPDATE SET"
                " devices = excluded.devices, at = excluded.at",
                (key, source, devices, to_dt(at)),
            )
            return _sources(cur, key)

    def leave_storm(self, key: str, source: str) -> dict[str, int]:
        with self._conn("leave storm") as conn, conn.cursor() as cur:
            _lock(cur, key)
            cur.execute(
                "DELETE FROM storm_sources WHERE storm_key = %s AND source = %s", (key, source)
            )
            return _sources(cur, key)


def _lock(cur: psycopg.Cursor[Any], key: str) -> None:
    cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"storm:{key}",))


def _sources(cur: psycopg.Cursor[Any], key: str) -> dict[str, int]:
    rows = cur.execute(
        "SELECT source, devices FROM storm_sources WHERE storm_key = %s", (key,)
    ).fetchall()
    return {str(s): int(n) for s, n in rows}
