"""Detector findings and named watermarks on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from hub.store import rows as cols
from hub.store.base import FindingRow
from hub.store.postgres.codec import ROWS, filters, opt_dt, to_dt
from hub.store.postgres.connection import PostgresBase, returned_ids


class PostgresFindings(PostgresBase):
    """Findings in, the unhandled ones out; named watermarks."""

    def write_findings(self, rows: Sequence[FindingRow]) -> list[int]:
        if not rows:
            return []
        with self._conn("write findings") as conn, conn.transaction(), conn.cursor() as cur:
            return insert_findings(cur, rows)

    def findings(
        self, *, resident_id: str | None = None, device_id: str | None = None,
        kind: str | None = None, since: float | None = None, limit: int = 100,
    ) -> list[FindingRow]:  # fmt: skip
        where, params = filters(
            ("detected_at >= %s", opt_dt(since)),
            resident_id=resident_id, device_id=device_id, kind=kind,
        )  # fmt: skip
        rows = self._query(
            f"{cols.FINDING_SELECT}{where} ORDER BY detected_at DESC, id DESC LIMIT %s",
            [*params, limit],
        )
        return [ROWS.finding(r) for r in rows]


def insert_findings(cur: psycopg.Cursor[Any], rows: Sequence[FindingRow]) -> list[int]:
    """Insert ``rows`` in the caller's transaction; their ids, in order."""
    cur.executemany(
        "INSERT INTO findings (resident_id, device_id, kind, priority, at,"
        " detected_at, evidence, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING id",
        [
            (f.resident_id, f.device_id, f.kind, f.priority, to_dt(f.at),
             to_dt(f.detected_at), Jsonb(f.evidence), Jsonb(f.reason))
            for f in rows
        ],
        returning=True,
    )  # fmt: skip
    return returned_ids(cur)
