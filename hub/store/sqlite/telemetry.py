"""Queries over what devices sent, on SQLite: telemetry, events, dead letters, status,
command replies, the replay window and the dashboard's series."""

from __future__ import annotations

from collections.abc import Sequence

from hub.errors import StoreError
from hub.store import rows as cols
from hub.store.base import (
    VITALS_SERIES_FIELDS,
    CommandReplyRow,
    DeadLetter,
    EventRow,
    TelemetryRow,
    VitalsBucket,
)
from hub.store.sqlite.connection import ROWS, SqliteBase


class SqliteTelemetry(SqliteBase):
    """Read-only queries over telemetry, events, dead letters, status and replies."""

    def telemetry(
        self, device_id: str, since: float | None = None, until: float | None = None,
        limit: int = 10_000,
    ) -> list[TelemetryRow]:  # fmt: skip
        rows = self._query(
            f"{cols.TELEMETRY_SELECT} WHERE device_id = ?1"
            " AND (?2 IS NULL OR ts >= ?2) AND (?3 IS NULL OR ts < ?3)"
            " ORDER BY ts, seq LIMIT ?4",
            (device_id, since, until, limit),
        )
        return [ROWS.telemetry(r) for r in rows]

    def events(
        self, device_id: str | None = None, since: float | None = None, limit: int = 1_000
    ) -> list[EventRow]:
        rows = self._query(
            f"{cols.EVENT_SELECT} WHERE (?1 IS NULL OR device_id = ?1)"
            " AND (?2 IS NULL OR received_at >= ?2)"
            " ORDER BY received_at DESC, device_id, seq DESC LIMIT ?3",
            (device_id, since, limit),
        )
        return [ROWS.event(r) for r in rows]

    def dead_letters(
        self, *, device_id: str | None = None, code: str | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        rows = self._query(
            f"{cols.DEAD_LETTER_SELECT} WHERE (?1 IS NULL OR device_id = ?1)"
            " AND (?2 IS NULL OR code = ?2)"
            " ORDER BY id DESC LIMIT ?3",
            (device_id, code, limit),
        )
        return [ROWS.dead_letter(r) for r in rows]

    def command_replies(
        self, device_id: str, command_id: str | None = None
    ) -> list[CommandReplyRow]:
        rows = self._query(
            f"{cols.REPLY_SELECT} WHERE device_id = ?1 AND (?2 IS NULL OR command_id = ?2)"
            " ORDER BY received_at, id",
            (device_id, command_id),
        )
        return [ROWS.reply(r) for r in rows]

    def latest_telemetry(self, device_ids: Sequence[str]) -> dict[str, TelemetryRow]:
        out: dict[str, TelemetryRow] = {}
        for device_id in dict.fromkeys(device_ids):
            rows = self._query(
                f"{cols.TELEMETRY_SELECT} WHERE device_id = ? ORDER BY ts DESC, seq DESC LIMIT 1",
                (device_id,),
            )
            if rows:
                out[device_id] = ROWS.telemetry(rows[0])
        return out

    def latest_received(self, since: float) -> list[TelemetryRow]:
        rows = self._query(
            f"SELECT {', '.join(cols.TELEMETRY_COLS)} FROM (SELECT *, row_number() OVER"
            " (PARTITION BY device_id ORDER BY received_at DESC, seq DESC) AS n FROM telemetry"
            " WHERE received_at > ?) WHERE n = 1 ORDER BY device_id",
            (since,),
        )
        return [ROWS.telemetry(r) for r in rows]

    def vitals_series(
        self, device_ids: Sequence[str], since: float, until: float, bucket_s: int
    ) -> list[VitalsBucket]:
        if bucket_s <= 0:
            raise StoreError("bucket_s must be positive")
        ids = list(dict.fromkeys(device_ids))
        if not ids:
            return []
        aggs = ", ".join(f"avg({f}), min({f}), max({f})" for f in VITALS_SERIES_FIELDS)
        marks = ", ".join(f"?{i}" for i in range(4, 4 + len(ids)))
        rows = self._query(
            f"SELECT device_id, CAST(ts / ?1 AS INTEGER) * ?1 AS bucket, count(*), {aggs}"
            f" FROM telemetry WHERE device_id IN ({marks}) AND ts >= ?2 AND ts < ?3"
            " GROUP BY device_id, bucket ORDER BY device_id, bucket",
            (bucket_s, since, until, *ids),
        )
        return [ROWS.vitals_bucket(r) for r in rows]
