"""Queries over what devices sent, on PostgreSQL: telemetry, events, dead letters, status,
command replies, the replay window and the dashboard's series (TimescaleDB's per-minute
aggregate when it is there)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from hub.store.postgres.codec import ROWS, filters, opt_dt, to_dt
from hub.store.postgres.connection import PostgresBase


class PostgresTelemetry(PostgresBase):
    """Read-only queries over telemetry, events, dead letters, status and replies."""

    def telemetry(
        self, device_id: str, since: float | None = None, until: float | None = None,
        limit: int = 10_000,
    ) -> list[TelemetryRow]:  # fmt: skip
        where, params = filters(
            ("ts >= %s", opt_dt(since)), ("ts < %s", opt_dt(until)), device_id=device_id
        )
        rows = self._query(
            f"{cols.TELEMETRY_SELECT}{where} ORDER BY ts, seq LIMIT %s", [*params, limit]
        )
        return [ROWS.telemetry(r) for r in rows]

    def events(
        self, device_id: str | None = None, since: float | None = None, limit: int = 1_000
    ) -> list[EventRow]:
        where, params = filters(("received_at >= %s", opt_dt(since)), device_id=device_id)
        rows = self._query(
            f"{cols.EVENT_SELECT}{where} ORDER BY received_at DESC, device_id, seq DESC LIMIT %s",
            [*params, limit],
        )
        return [ROWS.event(r) for r in rows]

    def dead_letters(
        self, *, device_id: str | None = None, code: str | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        where, params = filters(device_id=device_id, code=code)
        rows = self._query(
            f"{cols.DEAD_LETTER_SELECT}{where} ORDER BY id DESC LIMIT %s",
            [*params, limit],
        )
        return [ROWS.dead_letter(r) for r in rows]

    def command_replies(
        self, device_id: str, command_id: str | None = None
    ) -> list[CommandReplyRow]:
        where, params = filters(device_id=device_id, command_id=command_id)
        rows = self._query(
            f"{cols.REPLY_SELECT}{where} ORDER BY received_at, id",
            params,
        )
        return [ROWS.reply(r) for r in rows]

    def latest_telemetry(self, device_ids: Sequence[str]) -> dict[str, TelemetryRow]:
        ids = list(dict.fromkeys(device_ids))
        if not ids:
            return {}
        # LATERAL: one index probe per device instead of a scan of everything they sent
        columns = ", ".join(f"t.{c}" for c in cols.TELEMETRY_COLS)
        rows = self._query(
            f"SELECT {columns} FROM unnest(%s::text[]) AS d(id) CROSS JOIN LATERAL ("
            f" SELECT * FROM telemetry WHERE device_id = d.id ORDER BY ts DESC, seq DESC LIMIT 1"
            ") AS t",
            (ids,),
        )
        return {r[0]: ROWS.telemetry(r) for r in rows}

    def latest_received(self, since: float) -> list[TelemetryRow]:
        # received_at has a BRIN index (migration 0005): a recent window reads few pages
        rows = self._query(
            f"SELECT DISTINCT ON (device_id) {', '.join(cols.TELEMETRY_COLS)} FROM telemetry"
            " WHERE received_at > %s ORDER BY device_id, received_at DESC, seq DESC",
            (to_dt(since),),
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
        params = (bucket_s, ids, to_dt(since), to_dt(until))
        if self.backend == "timescale" and bucket_s % 60 == 0:
            # the per-minute continuous aggregate, re-bucketed; minutes it has not
            # materialised yet come from raw telemetry (real-time aggregation may be off)
            aggs = ", ".join(
                f"sum({f}_avg * n) / NULLIF(sum(n) FILTER (WHERE {f}_avg IS NOT NULL), 0),"
                f" min({f}_min), max({f}_max)"
                for f in VITALS_SERIES_FIELDS
            )
            raw = ", ".join(f"avg({f}), min({f}), max({f})" for f in VITALS_SERIES_FIELDS)
            sql = (
                "WITH w AS (SELECT COALESCE(max(bucket) + INTERVAL '1 minute', '-infinity')"
                " AS mark FROM vitals_1m WHERE device_id = ANY(%(ids)s))"
                f" SELECT device_id, floor(extract(epoch FROM bucket) / %(b)s) * %(b)s AS start,"
                f" sum(n), {aggs} FROM vitals_1m, w WHERE device_id = ANY(%(ids)s)"
                " AND bucket >= %(since)s AND bucket < LEAST(%(until)s, w.mark)"
                " GROUP BY device_id, start"
                " UNION ALL"
                f" SELECT device_id, floor(extract(epoch FROM ts) / %(b)s) * %(b)s AS start,"
                f" count(*), {raw} FROM telemetry, w WHERE device_id = ANY(%(ids)s)"
                " AND ts >= GREATEST(%(since)s, w.mark) AND ts < %(until)s"
                " GROUP BY device_id, start ORDER BY 1, 2"
            )
            named = {"b": bucket_s, "ids": ids, "since": params[2], "until": params[3]}
            rows = self._query(sql, named)  # type: ignore[arg-type]
            return _merge_buckets(rows)
        raw = ", ".join(f"avg({f}), min({f}), max({f})" for f in VITALS_SERIES_FIELDS)
        rows = self._query(
            "SELECT device_id, floor(extract(epoch FROM ts) / %s) * %s AS start, count(*),"
            f" {raw} FROM telemetry WHERE device_id = ANY(%s) AND ts >= %s AND ts < %s"
            " GROUP BY device_id, start ORDER BY device_id, start",
            (bucket_s, bucket_s, ids, params[2], params[3]),
        )
        return [ROWS.vitals_bucket(r) for r in rows]


def _merge_buckets(rows: Sequence[Sequence[Any]]) -> list[VitalsBucket]:
    """Join a bucket split between the aggregate and raw rows (weighted by count)."""
    out: list[VitalsBucket] = []
    for b in (ROWS.vitals_bucket(r) for r in rows):
        prev = out[-1] if out else None
        if prev is None or (prev.device_id, prev.start) != (b.device_id, b.start):
            out.append(b)
            continue
        values = dict(prev.values)
        for name, (mean, lo, hi) in b.values.items():
            old = values.get(name)
            values[name] = (mean, lo, hi) if old is None else (
                (old[0] * prev.n + mean * b.n) / (prev.n + b.n), min(old[1], lo), max(old[2], hi)
            )  # fmt: skip
        out[-1] = VitalsBucket(b.device_id, b.start, prev.n + b.n, values)
    return out
