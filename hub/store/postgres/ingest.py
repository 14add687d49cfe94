"""The ingest pipeline's writes on PostgreSQL (one batch, one transaction, telemetry by COPY:
:mod:`hub.store.postgres.copy`), and what a restarted hub reads back: device presence and
duplicate windows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
import psycopg.errors
from psycopg.types.json import Json, Jsonb

from hub.contract.limits import SEQ_WINDOW
from hub.store.base import (
    DeviceState,
    IngestBatch,
    SeqsByDevice,
    StatusChange,
    boot_from_status,
    device_fields_from_status,
)
from hub.store.postgres.codec import to_dt
from hub.store.postgres.connection import PostgresBase, returned_ids
from hub.store.postgres.copy import write_telemetry

# Keep the newest presence: a new boot restarts seq, an older boot is stale. Rows of devices
# not in the registry are skipped (the pipeline refuses their messages anyway). Parameters
# in a SELECT list carry casts: PostgreSQL does not infer them from the target columns there.
# One statement for the whole batch (arrays unnested server-side): a batch touches up to one
# row per device, and a statement per device cost more than the telemetry COPY itself.
UPSERT_SEEN = """
INSERT INTO device_state AS s (device_id, last_seen_at, last_seq, boot, clock_offset_s,
                               telemetry_gaps)
SELECT v.id, v.seen, v.seq, v.boot, v.off, v.gaps
FROM unnest(%(id)s::text[], %(seen)s::timestamptz[], %(seq)s::bigint[], %(boot)s::bigint[],
            %(offset)s::float8[], %(gaps)s::bigint[]) AS v(id, seen, seq, boot, off, gaps)
JOIN devices d ON d.id = v.id
ORDER BY v.id
ON CONFLICT (device_id) DO UPDATE SET
    last_seq = CASE
        WHEN excluded.boot IS NOT NULL AND (s.boot IS NULL OR excluded.boot > s.boot)
            THEN excluded.last_seq
        WHEN excluded.boot IS NOT NULL AND excluded.boot < s.boot THEN s.last_seq
        ELSE GREATEST(s.last_seq, excluded.last_seq)
    END,
    boot = GREATEST(s.boot, excluded.boot),
    last_seen_at = GREATEST(s.last_seen_at, excluded.last_seen_at),
    clock_offset_s = COALESCE(excluded.clock_offset_s, s.clock_offset_s),
    telemetry_gaps = GREATEST(s.telemetry_gaps, excluded.telemetry_gaps)
"""


UPSERT_STATUS = """
INSERT INTO device_state AS s (device_id, online, changed_at, boot)
SELECT %(id)s::text, %(online)s::boolean, %(at)s::timestamptz, %(boot)s::bigint
WHERE EXISTS (SELECT 1 FROM devices WHERE id = %(id)s::text)
ON CONFLICT (device_id) DO UPDATE SET
    online = CASE WHEN s.changed_at IS NULL OR excluded.changed_at >= s.changed_at
                  THEN excluded.online ELSE s.online END,
    changed_at = GREATEST(s.changed_at, excluded.changed_at),
    last_seq = CASE WHEN excluded.boot > COALESCE(s.boot, -1) THEN NULL ELSE s.last_seq END,
    boot = GREATEST(s.boot, excluded.boot)
"""


UPSERT_UNPROVISIONED = """
INSERT INTO unprovisioned AS u (device_id, first_seen, last_seen, count, last_topic, gateway_id)
SELECT %(id)s::text, %(at)s::timestamptz, %(at)s::timestamptz, 1, %(topic)s::text, %(gw)s::text
WHERE NOT EXISTS (SELECT 1 FROM devices WHERE id = %(id)s::text)
ON CONFLICT (device_id) DO UPDATE SET
    count = u.count + 1,
    first_seen = LEAST(u.first_seen, excluded.first_seen),
    last_seen = GREATEST(u.last_seen, excluded.last_seen),
    last_topic = excluded.last_topic,
    gateway_id = COALESCE(excluded.gateway_id, u.gateway_id)
"""


class PostgresIngest(PostgresBase):
    """One batch a transaction (telemetry by COPY); presence and duplicate windows."""

    def write_batch(self, batch: IngestBatch) -> list[int]:
        with self._conn("write batch") as conn, conn.cursor() as cur:
            return self._write_batch_rows(conn, cur, batch)

    def _write_batch_rows(
        self, conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], batch: IngestBatch
    ) -> list[int]:
        """The rows of ``batch`` in the caller's transaction; the dead letters' ids."""
        ids: list[int] = []
        if batch.telemetry:
            write_telemetry(conn, cur, batch.telemetry)
        if batch.events:
            cur.executemany(
                "INSERT INTO events (device_id, seq, ts, received_at, type, data)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [(e.device_id, e.seq, to_dt(e.ts), to_dt(e.received_at), e.type,
                  Json(e.data)) for e in batch.events],
            )  # fmt: skip
        if batch.dead_letters:
            cur.executemany(
                "INSERT INTO dead_letters (received_at, topic, payload, code, detail,"
                " device_id, payload_size, payload_sha256)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                [(to_dt(d.received_at), d.topic, bytes(d.payload), d.code, d.detail,
                  d.device_id, d.size, d.sha256) for d in batch.dead_letters],
                returning=True,
            )  # fmt: skip
            ids = returned_ids(cur)
        # per-device rows in device order, so concurrent batches lock rows in one order
        for st in sorted(batch.status, key=_by_device):
            _write_status(cur, st)
        if batch.replies:
            cur.executemany(
                "INSERT INTO command_replies (device_id, command_id, ts, received_at,"
                " status, detail) VALUES (%s, %s, %s, %s, %s, %s)",
                [(r.device_id, r.command_id, to_dt(r.ts), to_dt(r.received_at), r.status,
                  r.detail) for r in batch.replies],
            )  # fmt: skip
        if batch.seen:
            cur.execute(UPSERT_SEEN, _seen_arrays(batch.seen))
        if batch.unprovisioned:
            cur.executemany(
                UPSERT_UNPROVISIONED,
                [{"id": u[0], "topic": u[1], "at": to_dt(u[2]), "gw": u[3]}
                 for u in sorted(batch.unprovisioned, key=lambda u: u[0])],
            )  # fmt: skip
        return ids

    def recent_seqs(self, since: float, window: int = SEQ_WINDOW) -> SeqsByDevice:
        at = to_dt(since)
        out = SeqsByDevice()
        # one row per device, only the numbers its window keeps; rows converted one by one
        with self._conn("recent seqs") as conn, conn.cursor() as cur:
            cur.execute(
                "WITH recent AS (SELECT device_id, seq FROM telemetry WHERE received_at >= %s"
                " UNION SELECT device_id, seq FROM events WHERE received_at >= %s),"
                " top AS (SELECT device_id, max(seq) AS high FROM recent GROUP BY device_id)"
                " SELECT r.device_id, array_agg(r.seq ORDER BY r.seq) FROM recent r"
                " JOIN top t USING (device_id) WHERE r.seq > t.high - %s GROUP BY r.device_id",
                (at, at, window),
            )
            for device_id, seqs in cur:
                out.add(device_id, seqs)
        return out


def _by_device(row: StatusChange | DeviceState) -> str:
    return row.device_id


def _write_status(cur: psycopg.Cursor[Any], st: StatusChange) -> None:
    at = to_dt(st.at)
    cur.execute(
        "INSERT INTO status_log (device_id, online, at, source, info) VALUES (%s, %s, %s, %s, %s)",
        (st.device_id, st.online, at, st.source, Jsonb(st.info)),
    )
    boot = boot_from_status(st.info)
    cur.execute(UPSERT_STATUS, {"id": st.device_id, "online": st.online, "at": at, "boot": boot})
    fields = device_fields_from_status(st.info)
    if "capabilities" in fields:
        fields["capabilities"] = Jsonb(list(fields["capabilities"]))
    for column, value in fields.items():
        # column names come from a fixed list (STATUS_DEVICE_FIELDS), never from the payload
        cur.execute(f"UPDATE devices SET {column} = %s WHERE id = %s", (value, st.device_id))


def _seen_arrays(seen: Sequence[DeviceState]) -> dict[str, list[Any]]:
    rows = sorted(seen, key=_by_device)
    return {
        "id": [s.device_id for s in rows],
        "seen": [None if s.last_seen_at is None else to_dt(s.last_seen_at) for s in rows],
        "seq": [s.last_seq for s in rows],
        "boot": [s.boot for s in rows],
        "offset": [s.clock_offset_s for s in rows],
        "gaps": [s.telemetry_gaps for s in rows],
    }
