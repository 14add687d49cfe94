"""Detector findings and named watermarks on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence

from hub.store import rows as cols
from hub.store.base import FindingRow
from hub.store.sqlite.connection import ROWS, SqliteBase


class SqliteFindings(SqliteBase):
    """Findings in, the unhandled ones out; named watermarks."""

    def write_findings(self, rows: Sequence[FindingRow]) -> list[int]:
        ids: list[int] = []
        with self._tx("write findings") as db:
            for f in rows:
                cur = db.execute(
                    "INSERT INTO findings (resident_id, device_id, kind, priority, at,"
                    " detected_at, evidence, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (f.resident_id, f.device_id, f.kind, f.priority, f.at, f.detected_at,
                     json.dumps(f.evidence), json.dumps(f.reason, ensure_ascii=False)),
                )  # fmt: skip
                ids.append(int(cur.lastrowid or 0))
        return ids

    def findings(
        self, *, resident_id: str | None = None, device_id: str | None = None,
        kind: str | None = None, since: float | None = None, limit: int = 100,
    ) -> list[FindingRow]:  # fmt: skip
        rows = self._query(
            f"{cols.FINDING_SELECT} WHERE (?1 IS NULL OR resident_id = ?1)"
            " AND (?2 IS NULL OR device_id = ?2) AND (?3 IS NULL OR kind = ?3)"
            " AND (?4 IS NULL OR detected_at >= ?4) ORDER BY detected_at DESC, id DESC LIMIT ?5",
            (resident_id, device_id, kind, since, limit),
        )
        return [ROWS.finding(r) for r in rows]
