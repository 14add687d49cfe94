"""The ingest pipeline's writes on SQLite (one batch, one transaction), and what a restarted
hub reads back: device presence and duplicate windows."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from hub.contract.limits import SEQ_WINDOW
from hub.store import rows as cols
from hub.store.base import (
    VITAL_FIELDS,
    IngestBatch,
    SeqsByDevice,
    StatusChange,
    TelemetryRow,
    boot_from_status,
    device_fields_from_status,
)
from hub.store.sqlite.connection import SqliteBase, convert, dumps

_INSERT_TELEMETRY = (
    f"INSERT INTO telemetry ({', '.join(cols.TELEMETRY_COLS)}) "
    f"VALUES ({', '.join('?' * len(cols.TELEMETRY_COLS))}) "
    "ON CONFLICT (device_id, ts, seq) DO NOTHING"
)

# Keep the newest presence: a new boot restarts seq, an older boot is stale.
_UPSERT_SEEN = """
INSERT INTO device_state (device_id, last_seen_at, last_seq, boot, clock_offset_s, telemetry_gaps)
SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1)
ON CONFLICT (device_id) DO UPDATE SET
    last_seq = CASE
        WHEN excluded.boot IS NOT NULL AND (boot IS NULL OR excluded.boot > boot)
            THEN excluded.last_seq
        WHEN excluded.boot IS NOT NULL AND excluded.boot < boot THEN last_seq
        ELSE max(coalesce(last_seq, excluded.last_seq), coalesce(excluded.last_seq, last_seq))
    END,
    boot = max(coalesce(boot, excluded.boot), coalesce(excluded.boot, boot)),
    last_seen_at = max(coalesce(last_seen_at, excluded.last_seen_at),
                       coalesce(excluded.last_seen_at, last_seen_at)),
    clock_offset_s = coalesce(excluded.clock_offset_s, clock_offset_s),
    telemetry_gaps = max(telemetry_gaps, excluded.telemetry_gaps)
"""

_UPSERT_STATUS = """
INSERT INTO device_state (device_id, online, changed_at, boot)
SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1)
ON CONFLICT (device_id) DO UPDATE SET
    online = CASE WHEN changed_at IS NULL OR excluded.changed_at >= changed_at
                  THEN excluded.online ELSE online END,
    changed_at = max(coalesce(changed_at, excluded.changed_at), excluded.changed_at),
    last_seq = CASE WHEN excluded.boot > coalesce(boot, -1) THEN NULL ELSE last_seq END,
    boot = max(coalesce(boot, excluded.boot), coalesce(excluded.boot, boot))
"""


_UPSERT_UNPROVISIONED = """
INSERT INTO unprovisioned (device_id, first_seen, last_seen, count, last_topic, gateway_id)
SELECT ?1, ?3, ?3, 1, ?2, ?4 WHERE NOT EXISTS (SELECT 1 FROM devices WHERE id = ?1)
ON CONFLICT (device_id) DO UPDATE SET
    count = count + 1,
    first_seen = min(first_seen, excluded.first_seen),
    last_seen = max(last_seen, excluded.last_seen),
    last_topic = excluded.last_topic,
    gateway_id = coalesce(excluded.gateway_id, gateway_id)
"""


class SqliteIngest(SqliteBase):
    """One batch a transaction; presence and duplicate windows read back."""

    def write_batch(self, batch: IngestBatch) -> list[int]:
        ids: list[int] = []
        with self._tx("write batch") as db:
            if batch.telemetry:
                db.executemany(_INSERT_TELEMETRY, map(_telemetry_params, batch.telemetry))
            if batch.events:
                db.executemany(
                    "INSERT INTO events (device_id, seq, ts, received_at, type, data)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, ts, seq) DO NOTHING",
                    [(e.device_id, e.seq, e.ts, e.received_at, e.type, json.dumps(e.data))
                     for e in batch.events],
                )  # fmt: skip
            for dl in batch.dead_letters:
                cur = db.execute(
                    "INSERT INTO dead_letters (received_at, topic, payload, code, detail,"
                    " device_id, payload_size, payload_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (dl.received_at, dl.topic, bytes(dl.payload), dl.code, dl.detail,
                     dl.device_id, dl.size, dl.sha256),
                )  # fmt: skip
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
            for st in batch.status:
                self._write_status(db, st)
            if batch.replies:
                db.executemany(
                    "INSERT INTO command_replies (device_id, command_id, ts, received_at,"
                    " status, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    [(r.device_id, r.command_id, r.ts, r.received_at, r.status, r.detail)
                     for r in batch.replies],
                )  # fmt: skip
            if batch.seen:
                db.executemany(
                    _UPSERT_SEEN,
                    [(s.device_id, s.last_seen_at, s.last_seq, s.boot, s.clock_offset_s,
                      s.telemetry_gaps) for s in batch.seen],
                )  # fmt: skip
            if batch.unprovisioned:
                db.executemany(_UPSERT_UNPROVISIONED, batch.unprovisioned)
        return ids

    @staticmethod
    def _write_status(db: sqlite3.Connection, st: StatusChange) -> None:
        db.execute(
            "INSERT INTO status_log (device_id, online, at, source, info) VALUES (?, ?, ?, ?, ?)",
            (st.device_id, st.online, st.at, st.source, json.dumps(st.info)),
        )
        db.execute(_UPSERT_STATUS, (st.device_id, st.online, st.at, boot_from_status(st.info)))
        fields = device_fields_from_status(st.info)
        if "capabilities" in fields:
            fields["capabilities"] = json.dumps(list(fields["capabilities"]))
        for column, value in fields.items():
            # column names come from a fixed list (STATUS_DEVICE_FIELDS), never from the payload
            db.execute(f"UPDATE devices SET {column} = ? WHERE id = ?", (value, st.device_id))

    def recent_seqs(self, since: float, window: int = SEQ_WINDOW) -> SeqsByDevice:
        out = SeqsByDevice()
        with self._lock:
            try:
                rows = self._db.execute(
                    "WITH recent AS (SELECT device_id, seq FROM telemetry WHERE received_at >= ?1"
                    " UNION SELECT device_id, seq FROM events WHERE received_at >= ?1),"
                    " top AS (SELECT device_id, max(seq) AS high FROM recent GROUP BY device_id)"
                    " SELECT r.device_id, r.seq FROM recent r JOIN top t USING (device_id)"
                    " WHERE r.seq > t.high - ?2 ORDER BY 1, 2",
                    (since, window),
                )
                for device_id, seq in rows:  # converted row by row, kept as arrays
                    out.add(device_id, (seq,))
            except sqlite3.Error as exc:
                raise convert(exc, "recent seqs") from exc
        return out


def _telemetry_params(t: TelemetryRow) -> tuple[Any, ...]:
    values = t.values
    return (
        t.device_id, t.seq, t.ts, t.received_at, *(values.get(f) for f in VITAL_FIELDS),
        dumps(t.quality), dumps(t.acc), dumps(t.ext),
    )  # fmt: skip
