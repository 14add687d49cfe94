"""The embedded store: SQLite in WAL mode, the default that needs nothing installed.

One connection guarded by a lock serves every thread (``check_same_thread=False``); WAL
lets readers in other processes (a backup, ``sqlite3`` on the command line) work during
writes. Times are REAL epoch seconds, JSON is TEXT, payloads are BLOB.

The module is longer than most: one class implements the whole protocol, so each
operation's SQL sits next to the code that runs it (as in :mod:`hub.store.postgres`).

>>> store = SqliteStore(":memory:")
>>> store.migrate()[:1]
['0001']
>>> store.migrate()
[]
>>> store.close()
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hub.contract.limits import SEQ_WINDOW
from hub.errors import (
    AlertExists,
    Conflict,
    MigrationError,
    NotFound,
    StoreError,
    StoreRefused,
    StoreUnavailable,
)
from hub.store import migrations
from hub.store.base import (
    VITAL_FIELDS,
    VITALS_SERIES_FIELDS,
    AlertChanges,
    AlertRow,
    ApiTokenRow,
    City,
    CommandReplyRow,
    Contact,
    DeadLetter,
    Device,
    DeviceState,
    District,
    EventRow,
    FindingRow,
    IngestBatch,
    NotificationRow,
    Resident,
    SeqsByDevice,
    SessionRow,
    SilenceRow,
    Station,
    StatusChange,
    TelemetryRow,
    TimelineRow,
    Unprovisioned,
    UserRow,
    VitalsBucket,
    device_fields_from_status,
)
from hub.store.sqlite_sessions_slide import SqliteSessionSlide

BUSY_TIMEOUT_MS = 5_000
"""How long a writer waits for another process's write lock before failing."""

_TELEMETRY_COLS = ("device_id", "seq", "ts", "received_at", *VITAL_FIELDS, "quality", "acc", "ext")
_INSERT_TELEMETRY = (
    f"INSERT INTO telemetry ({', '.join(_TELEMETRY_COLS)}) "
    f"VALUES ({', '.join('?' * len(_TELEMETRY_COLS))}) "
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


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


_BINDING_ERRORS = (OverflowError, UnicodeEncodeError)
"""What sqlite3 raises, outside its own hierarchy, for a value it cannot bind: an integer
beyond 64 bits, a string with a lone surrogate."""


def _convert(exc: sqlite3.Error | ValueError | ArithmeticError, what: str) -> StoreError:
    """Refused (the data: constraints, values SQLite cannot take) apart from unavailable
    (locked or busy beyond the timeout, I/O errors), as :mod:`hub.store.pg_errors` does."""
    if isinstance(exc, sqlite3.IntegrityError):
        return Conflict(f"{what}: {exc}")
    if isinstance(exc, (sqlite3.DataError, sqlite3.InterfaceError, *_BINDING_ERRORS)):
        return StoreRefused(f"{what}: {exc}")
    if isinstance(exc, sqlite3.OperationalError):
        return StoreUnavailable(f"{what}: {exc}")
    return StoreError(f"{what}: {exc}")


class SqliteStore(SqliteSessionSlide):
    """:class:`hub.store.base.Store` on one SQLite file (or ``":memory:"``)."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so DDL is transactional
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )  # fmt: skip
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._lock = threading.RLock()

    # --- plumbing -----------------------------------------------------------------------

    @contextmanager
    def _tx(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; sqlite3 errors leave as hub.errors."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _convert(exc, what) from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, (sqlite3.Error, *_BINDING_ERRORS)):
                    raise _convert(exc, what) from exc
                raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise _convert(exc, "query") from exc

    def _one(self, sql: str, params: Sequence[Any], missing: str) -> tuple[Any, ...]:
        rows = self._query(sql, params)
        if not rows:
            raise NotFound(missing)
        return rows[0]

    # --- lifecycle ----------------------------------------------------------------------

    def migrate(self) -> list[str]:
        applied: list[str] = []
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            done = {r[0] for r in self._db.execute("SELECT version FROM schema_migrations")}
            for mig in migrations.pending(migrations.load("sqlite"), done):
                try:
                    with self._tx(f"migration {mig.name}") as db:
                        for statement in mig.statements("sqlite"):
                            db.execute(statement)
                        db.execute(
                            "INSERT INTO schema_migrations VALUES (?, ?)",
                            (mig.version, time.time()),
                        )
                except StoreError as exc:
                    raise MigrationError(str(exc)) from exc
                applied.append(mig.version)
        return applied

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- hierarchy ----------------------------------------------------------------------

    def add_city(self, city: City) -> None:
        with self._tx(f"add city {city.id!r}") as db:
            db.execute("INSERT INTO cities (id, name) VALUES (?, ?)", (city.id, city.name))

    def add_district(self, district: District) -> None:
        d = district
        with self._tx(f"add district {d.id!r}") as db:
            db.execute(
                "INSERT INTO districts (id, city_id, name, kind) VALUES (?, ?, ?, ?)",
                (d.id, d.city_id, d.name, d.kind),
            )

    def add_station(self, station: Station) -> None:
        s = station
        with self._tx(f"add station {s.id!r}") as db:
            db.execute(
                "INSERT INTO stations (id, district_id, name, kind, address, lat, lon, timezone) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (s.id, s.district_id, s.name, s.kind, s.address, s.lat, s.lon, s.timezone),
            )

    def list_cities(self) -> list[City]:
        return [City(*r) for r in self._query("SELECT id, name FROM cities ORDER BY id")]

    def list_districts(self, city_id: str | None = None) -> list[District]:
        rows = self._query(
            "SELECT id, city_id, name, kind FROM districts WHERE ?1 IS NULL OR city_id = ?1 "
            "ORDER BY id",
            (city_id,),
        )
        return [District(*r) for r in rows]

    _STATION = "SELECT id, district_id, name, kind, address, lat, lon, timezone FROM stations"

    def list_stations(self, district_id: str | None = None) -> list[Station]:
        rows = self._query(
            f"{self._STATION} WHERE ?1 IS NULL OR district_id = ?1 ORDER BY id", (district_id,)
        )
        return [Station(*r) for r in rows]

    def get_station(self, station_id: str) -> Station:
        row = self._one(f"{self._STATION} WHERE id = ?", (station_id,), f"station {station_id!r}")
        return Station(*row)

    def update_station(self, station: Station) -> None:
        s = station
        with self._tx(f"update station {s.id!r}") as db:
            cur = db.execute(
                "UPDATE stations SET name = ?, kind = ?, address = ?, lat = ?, lon = ?,"
                " timezone = ? WHERE id = ?",
                (s.name, s.kind, s.address, s.lat, s.lon, s.timezone, s.id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"station {s.id!r}")

    # --- residents and contacts ---------------------------------------------------------

    _RESIDENT = (
        "SELECT id, station_id, name, address, lat, lon, birth_year, status, clinical "
        "FROM residents"
    )

    @staticmethod
    def _resident(row: tuple[Any, ...]) -> Resident:
        r = row
        return Resident(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], clinical=json.loads(r[8]))

    @staticmethod
    def _resident_params(r: Resident) -> tuple[Any, ...]:
        return (
            r.station_id, r.name, r.address, r.lat, r.lon, r.birth_year, r.status,
            json.dumps(r.clinical), r.id,
        )  # fmt: skip

    def add_resident(self, resident: Resident) -> None:
        with self._tx(f"add resident {resident.id!r}") as db:
            db.execute(
                "INSERT INTO residents (station_id, name, address, lat, lon, birth_year, status,"
                " clinical, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._resident_params(resident),
            )

    def update_resident(self, resident: Resident) -> None:
        with self._tx(f"update resident {resident.id!r}") as db:
            cur = db.execute(
                "UPDATE residents SET station_id = ?, name = ?, address = ?, lat = ?, lon = ?,"
                " birth_year = ?, status = ?, clinical = ? WHERE id = ?",
                self._resident_params(resident),
            )
            if cur.rowcount == 0:
                raise NotFound(f"resident {resident.id!r}")

    def get_resident(self, resident_id: str) -> Resident:
        row = self._one(
            f"{self._RESIDENT} WHERE id = ?", (resident_id,), f"resident {resident_id!r}"
        )
        return self._resident(row)

    def list_residents(self, station_id: str | None = None) -> list[Resident]:
        rows = self._query(
            f"{self._RESIDENT} WHERE ?1 IS NULL OR station_id = ?1 ORDER BY id", (station_id,)
        )
        return [self._resident(r) for r in rows]

    def add_contact(self, contact: Contact) -> None:
        c = contact
        with self._tx(f"add contact {c.id!r}") as db:
            db.execute(
                "INSERT INTO contacts (id, resident_id, name, relation, phone, channels, prefs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (c.id, c.resident_id, c.name, c.relation, c.phone,
                 json.dumps(list(c.channels)), json.dumps(c.prefs)),
            )  # fmt: skip

    def list_contacts(self, resident_id: str) -> list[Contact]:
        rows = self._query(
            "SELECT id, resident_id, name, relation, phone, channels, prefs FROM contacts"
            " WHERE resident_id = ? ORDER BY id",
            (resident_id,),
        )
        return [
            Contact(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), json.loads(r[6]))
            for r in rows
        ]

    # --- devices ------------------------------------------------------------------------

    _DEVICE = (
        "SELECT id, kind, vendor, model, firmware, capabilities, resident_id, gateway_id,"
        " interval_s, enabled, created_at, worn_at FROM devices"
    )

    @staticmethod
    def _device(r: tuple[Any, ...]) -> Device:
        return Device(
            id=r[0], kind=r[1], vendor=r[2], model=r[3], firmware=r[4],
            capabilities=tuple(json.loads(r[5])), resident_id=r[6], gateway_id=r[7],
            interval_s=r[8], enabled=bool(r[9]), created_at=r[10], worn_at=r[11],
        )  # fmt: skip

    def add_device(self, device: Device, secret_hash: str | None = None) -> None:
        d = device
        created = d.created_at if d.created_at > 0 else time.time()
        with self._tx(f"add device {d.id!r}") as db:
            db.execute(
                "INSERT INTO devices (id, kind, vendor, model, firmware, capabilities,"
                " resident_id, gateway_id, interval_s, enabled, secret_hash, created_at,"
                " worn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (d.id, d.kind, d.vendor, d.model, d.firmware, json.dumps(list(d.capabilities)),
                 d.resident_id, d.gateway_id, d.interval_s, d.enabled, secret_hash, created,
                 d.worn_at),
            )  # fmt: skip
            db.execute("DELETE FROM unprovisioned WHERE device_id = ?", (d.id,))

    def add_devices(self, items: Sequence[tuple[Device, str | None]]) -> None:
        if not items:
            return
        now = time.time()
        with self._tx(f"add {len(items)} devices") as db:
            db.executemany(
                "INSERT INTO devices (id, kind, vendor, model, firmware, capabilities,"
                " resident_id, gateway_id, interval_s, enabled, secret_hash, created_at, worn_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(d.id, d.kind, d.vendor, d.model, d.firmware, json.dumps(list(d.capabilities)),
                  d.resident_id, d.gateway_id, d.interval_s, d.enabled, secret_hash,
                  d.created_at if d.created_at > 0 else now, d.worn_at)
                 for d, secret_hash in items],
            )  # fmt: skip
            db.executemany(
                "DELETE FROM unprovisioned WHERE device_id = ?", [(d.id,) for d, _ in items]
            )

    def device_kinds(self, device_ids: Iterable[str]) -> dict[str, str]:
        ids = list(device_ids)
        out: dict[str, str] = {}
        for lo in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            part = ids[lo : lo + 500]
            marks = ", ".join("?" * len(part))
            rows = self._query(f"SELECT id, kind FROM devices WHERE id IN ({marks})", part)
            out.update({r[0]: r[1] for r in rows})
        return out

    def update_device(self, device: Device) -> None:
        d = device
        with self._tx(f"update device {d.id!r}") as db:
            cur = db.execute(
                "UPDATE devices SET kind = ?, vendor = ?, model = ?, firmware = ?,"
                " capabilities = ?, resident_id = ?, gateway_id = ?, interval_s = ?, enabled = ?,"
                " worn_at = ? WHERE id = ?",
                (d.kind, d.vendor, d.model, d.firmware, json.dumps(list(d.capabilities)),
                 d.resident_id, d.gateway_id, d.interval_s, d.enabled, d.worn_at, d.id),
            )  # fmt: skip
            if cur.rowcount == 0:
                raise NotFound(f"device {d.id!r}")

    def get_device(self, device_id: str) -> Device:
        row = self._one(f"{self._DEVICE} WHERE id = ?", (device_id,), f"device {device_id!r}")
        return self._device(row)

    def list_devices(
        self, *, resident_id: str | None = None, gateway_id: str | None = None
    ) -> list[Device]:
        rows = self._query(
            f"{self._DEVICE} WHERE (?1 IS NULL OR resident_id = ?1)"
            " AND (?2 IS NULL OR gateway_id = ?2) ORDER BY id",
            (resident_id, gateway_id),
        )
        return [self._device(r) for r in rows]

    def set_device_secret(self, device_id: str, secret_hash: str) -> None:
        with self._tx(f"set secret of {device_id!r}") as db:
            cur = db.execute(
                "UPDATE devices SET secret_hash = ? WHERE id = ?", (secret_hash, device_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"device {device_id!r}")

    def get_device_secret(self, device_id: str) -> str | None:
        row = self._one(
            "SELECT secret_hash FROM devices WHERE id = ?", (device_id,), f"device {device_id!r}"
        )
        secret: str | None = row[0]
        return secret

    def list_unprovisioned(self) -> list[Unprovisioned]:
        rows = self._query(
            "SELECT device_id, first_seen, last_seen, count, last_topic, gateway_id"
            " FROM unprovisioned ORDER BY last_seen DESC, device_id"
        )
        return [Unprovisioned(*r) for r in rows]

    # --- ingest -------------------------------------------------------------------------

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
                    " device_id) VALUES (?, ?, ?, ?, ?, ?)",
                    (dl.received_at, dl.topic, bytes(dl.payload), dl.code, dl.detail,
                     dl.device_id),
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
        boot = st.info.get("boot")
        db.execute(_UPSERT_STATUS, (st.device_id, st.online, st.at, _int_or_none(boot)))
        fields = device_fields_from_status(st.info)
        if "capabilities" in fields:
            fields["capabilities"] = json.dumps(list(fields["capabilities"]))
        for column, value in fields.items():
            # column names come from a fixed list in base.py, never from the payload
            db.execute(f"UPDATE devices SET {column} = ? WHERE id = ?", (value, st.device_id))

    _STATE = (
        "SELECT d.id, s.online, s.changed_at, s.last_seen_at, s.last_seq, s.boot,"
        " s.clock_offset_s, coalesce(s.telemetry_gaps, 0)"
        " FROM devices d LEFT JOIN device_state s ON s.device_id = d.id"
    )

    @staticmethod
    def _state(r: tuple[Any, ...]) -> DeviceState:
        online = None if r[1] is None else bool(r[1])
        return DeviceState(r[0], online, *r[2:])

    def device_states(self) -> list[DeviceState]:
        return [self._state(r) for r in self._query(f"{self._STATE} ORDER BY d.id")]

    def get_device_state(self, device_id: str) -> DeviceState:
        row = self._one(f"{self._STATE} WHERE d.id = ?", (device_id,), f"device {device_id!r}")
        return self._state(row)

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
                raise _convert(exc, "recent seqs") from exc
        return out

    # --- queries ------------------------------------------------------------------------

    def telemetry(
        self, device_id: str, since: float | None = None, until: float | None = None,
        limit: int = 10_000,
    ) -> list[TelemetryRow]:  # fmt: skip
        rows = self._query(
            f"SELECT {', '.join(_TELEMETRY_COLS)} FROM telemetry WHERE device_id = ?1"
            " AND (?2 IS NULL OR ts >= ?2) AND (?3 IS NULL OR ts < ?3)"
            " ORDER BY ts, seq LIMIT ?4",
            (device_id, since, until, limit),
        )
        return [_telemetry_row(r) for r in rows]

    def events(
        self, device_id: str | None = None, since: float | None = None, limit: int = 1_000
    ) -> list[EventRow]:
        rows = self._query(
            "SELECT device_id, seq, ts, received_at, type, data FROM events"
            " WHERE (?1 IS NULL OR device_id = ?1) AND (?2 IS NULL OR received_at >= ?2)"
            " ORDER BY received_at DESC, device_id, seq DESC LIMIT ?3",
            (device_id, since, limit),
        )
        return [EventRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def dead_letters(
        self, *, device_id: str | None = None, code: str | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        rows = self._query(
            "SELECT received_at, topic, payload, code, detail, device_id, id FROM dead_letters"
            " WHERE (?1 IS NULL OR device_id = ?1) AND (?2 IS NULL OR code = ?2)"
            " ORDER BY id DESC LIMIT ?3",
            (device_id, code, limit),
        )
        return [DeadLetter(r[0], r[1], bytes(r[2]), *r[3:]) for r in rows]

    def count_dead_letters(self) -> dict[str, int]:
        return dict(self._query("SELECT code, count(*) FROM dead_letters GROUP BY code"))

    def status_history(self, device_id: str, limit: int = 100) -> list[StatusChange]:
        rows = self._query(
            "SELECT device_id, online, at, source, info FROM status_log WHERE device_id = ?"
            " ORDER BY at DESC, id DESC LIMIT ?",
            (device_id, limit),
        )
        return [StatusChange(r[0], bool(r[1]), r[2], r[3], json.loads(r[4])) for r in rows]

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

    def unhandled_findings(self, since: float, limit: int = 10_000) -> list[FindingRow]:
        rows = self._query(
            "SELECT resident_id, device_id, kind, priority, at, detected_at, evidence, reason, id"
            " FROM findings WHERE handled_at IS NULL AND detected_at >= ?1"
            " ORDER BY detected_at, id LIMIT ?2",
            (since, limit),
        )
        return [
            FindingRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), json.loads(r[7]), r[8])
            for r in rows
        ]

    def mark_findings_handled(self, ids: Sequence[int], at: float) -> None:
        if not ids:
            return
        with self._tx("mark findings handled") as db:
            db.executemany(
                "UPDATE findings SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                [(at, i) for i in ids],
            )

    def received_between(
        self, after: float, until: float, limit: int = 100_000
    ) -> tuple[list[TelemetryRow], list[EventRow]]:
        tel = self._query(
            f"SELECT {', '.join(_TELEMETRY_COLS)} FROM telemetry"
            " WHERE received_at > ?1 AND received_at <= ?2 ORDER BY received_at LIMIT ?3",
            (after, until, limit),
        )
        ev = self._query(
            "SELECT device_id, seq, ts, received_at, type, data FROM events"
            " WHERE received_at > ?1 AND received_at <= ?2 ORDER BY received_at LIMIT ?3",
            (after, until, limit),
        )
        return (
            [_telemetry_row(r) for r in tel],
            [EventRow(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in ev],
        )

    def status_between(self, after: float, until: float, limit: int = 100_000
                       ) -> list[StatusChange]:  # fmt: skip
        rows = self._query(
            "SELECT device_id, online, at, source, info FROM status_log"
            " WHERE at > ?1 AND at <= ?2 ORDER BY at, id LIMIT ?3",
            (after, until, limit),
        )
        return [StatusChange(r[0], bool(r[1]), r[2], r[3], json.loads(r[4])) for r in rows]

    def get_progress(self, name: str) -> float | None:
        rows = self._query("SELECT value FROM progress WHERE name = ?", (name,))
        return float(rows[0][0]) if rows else None

    def set_progress(self, name: str, value: float) -> None:
        with self._tx("set progress") as db:
            db.execute(
                "INSERT INTO progress (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def findings(
        self,
        *,
        resident_id: str | None = None,
        device_id: str | None = None,
        kind: str | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[FindingRow]:
        rows = self._query(
            "SELECT resident_id, device_id, kind, priority, at, detected_at, evidence, reason, id"
            " FROM findings WHERE (?1 IS NULL OR resident_id = ?1)"
            " AND (?2 IS NULL OR device_id = ?2) AND (?3 IS NULL OR kind = ?3)"
            " AND (?4 IS NULL OR detected_at >= ?4) ORDER BY detected_at DESC, id DESC LIMIT ?5",
            (resident_id, device_id, kind, since, limit),
        )
        return [
            FindingRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), json.loads(r[7]), r[8])
            for r in rows
        ]

    def command_replies(
        self, device_id: str, command_id: str | None = None
    ) -> list[CommandReplyRow]:
        rows = self._query(
            "SELECT device_id, command_id, ts, received_at, status, detail FROM command_replies"
            " WHERE device_id = ?1 AND (?2 IS NULL OR command_id = ?2)"
            " ORDER BY received_at, id",
            (device_id, command_id),
        )
        return [CommandReplyRow(*r) for r in rows]

    # --- alerts -------------------------------------------------------------------------

    def write_alert_changes(self, changes: AlertChanges) -> None:
        with self._tx("write alert changes") as db:
            for a in changes.alerts:
                params = _alert_params(a)
                if db.execute(_UPDATE_ALERT, (*params[1:], params[0])).rowcount:
                    continue
                # a new alert: idempotent on its trigger, the finding that opened it
                if not db.execute(_INSERT_ALERT, params).rowcount:
                    [(existing,)] = db.execute(
                        "SELECT id FROM alerts WHERE trigger_key = ?", (a.trigger,)
                    ).fetchall()
                    raise AlertExists(a.trigger or "", existing)
            if changes.timeline:
                db.executemany(
                    "INSERT INTO alert_timeline (alert_id, resident_id, at, actor, action, detail)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(t.alert_id, t.resident_id, t.at, t.actor, t.action,
                      json.dumps(t.detail, ensure_ascii=False)) for t in changes.timeline],
                )  # fmt: skip
            if changes.notifications:
                db.executemany(
                    "INSERT INTO alert_notifications (key, alert_id, round, target, channel,"
                    " contact_id, language, state, attempts, last_error, due_at, created_at,"
                    " updated_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    [(n.key, n.alert_id, n.round, n.target, n.channel, n.contact_id, n.language,
                      n.state, n.attempts, n.last_error, n.due_at, n.created_at,
                      n.updated_at if n.updated_at is not None else n.created_at, n.sent_at)
                     for n in changes.notifications],
                )  # fmt: skip
            if changes.notification_updates:
                db.executemany(
                    "UPDATE alert_notifications SET state = ?, attempts = ?, last_error = ?,"
                    " due_at = ?, updated_at = ?, sent_at = ? WHERE key = ?",
                    [(n.state, n.attempts, n.last_error, n.due_at,
                      n.updated_at if n.updated_at is not None else n.created_at, n.sent_at,
                      n.key) for n in changes.notification_updates],
                )  # fmt: skip
            if changes.handled_findings:
                at = changes.handled_at if changes.handled_at is not None else time.time()
                db.executemany(
                    "UPDATE findings SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                    [(at, i) for i in changes.handled_findings],
                )

    _ALERT = (
        "SELECT id, open_key, kind, state, priority, category, opened_at, updated_at,"
        " resident_id, device_id, station_id, next_deadline, data, trigger_key FROM alerts"
    )

    @staticmethod
    def _alert(r: tuple[Any, ...]) -> AlertRow:
        data = json.loads(r[12])
        key = r[1] or f"{data.get('subject', '')}|{r[2]}"
        return AlertRow(
            r[0], key, r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], data, r[13]
        )

    def get_alert(self, alert_id: str) -> AlertRow:
        return self._alert(self._one(f"{self._ALERT} WHERE id = ?", (alert_id,),
                                     f"alert {alert_id!r}"))  # fmt: skip

    def list_alerts(
        self, *, station_id: str | None = None, states: Sequence[str] | None = None,
        priority: str | None = None, resident_id: str | None = None,
        category: str | None = None, kind: str | None = None, limit: int = 100,
    ) -> list[AlertRow]:  # fmt: skip
        where = (
            " WHERE (?1 IS NULL OR station_id = ?1) AND (?2 IS NULL OR priority = ?2)"
            " AND (?3 IS NULL OR resident_id = ?3) AND (?4 IS NULL OR category = ?4)"
            " AND (?5 IS NULL OR kind = ?5)"
        )
        params: list[Any] = [station_id, priority, resident_id, category, kind]
        if states is not None:
            where += f" AND state IN ({', '.join('?' * len(states)) or 'NULL'})"
            params += list(states)
        rows = self._query(
            f"{self._ALERT}{where} ORDER BY opened_at DESC, id DESC LIMIT {int(limit)}", params
        )
        return [self._alert(r) for r in rows]

    def unresolved_alerts(self) -> list[AlertRow]:
        rows = self._query(f"{self._ALERT} WHERE state <> 'resolved' ORDER BY opened_at, id")
        return [self._alert(r) for r in rows]

    def alert_timeline(
        self, *, alert_id: str | None = None, resident_id: str | None = None,
        since: float | None = None, limit: int = 1_000,
    ) -> list[TimelineRow]:  # fmt: skip
        rows = self._query(
            "SELECT alert_id, at, actor, action, detail, resident_id, id FROM alert_timeline"
            " WHERE (?1 IS NULL OR alert_id = ?1) AND (?2 IS NULL OR resident_id = ?2)"
            " AND (?3 IS NULL OR at >= ?3) ORDER BY at, id LIMIT ?4",
            (alert_id, resident_id, since, limit),
        )
        return [TimelineRow(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    def alert_notifications(
        self, *, alert_id: str | None = None, states: Sequence[str] | None = None,
        due_before: float | None = None, limit: int = 1_000,
    ) -> list[NotificationRow]:  # fmt: skip
        where = " WHERE (?1 IS NULL OR alert_id = ?1) AND (?2 IS NULL OR due_at <= ?2)"
        params: list[Any] = [alert_id, due_before]
        if states is not None:
            where += f" AND state IN ({', '.join('?' * len(states)) or 'NULL'})"
            params += list(states)
        rows = self._query(
            "SELECT key, alert_id, round, target, channel, due_at, created_at, contact_id,"
            " language, state, attempts, last_error, updated_at, sent_at"
            f" FROM alert_notifications{where} ORDER BY due_at, key LIMIT {int(limit)}",
            params,
        )
        return [NotificationRow(*r) for r in rows]

    def add_silence(self, silence: SilenceRow) -> None:
        s = silence
        with self._tx(f"add silence {s.id!r}") as db:
            db.execute(
                "INSERT INTO alert_silences (id, start_at, end_at, author, reason, resident_id,"
                " device_id, kind, station_id, technical_only, created_at, cancelled_at,"
                " cancelled_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (s.id, s.start, s.end, s.author, s.reason, s.resident_id, s.device_id, s.kind,
                 s.station_id, s.technical_only, s.created_at, s.cancelled_at, s.cancelled_by),
            )  # fmt: skip

    def cancel_silence(self, silence_id: str, at: float, by: str) -> None:
        with self._tx(f"cancel silence {silence_id!r}") as db:
            cur = db.execute(
                "UPDATE alert_silences SET cancelled_at = coalesce(cancelled_at, ?),"
                " cancelled_by = coalesce(cancelled_by, ?) WHERE id = ?",
                (at, by, silence_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"silence {silence_id!r}")

    def list_silences(
        self, *, active_at: float | None = None, include_cancelled: bool = False
    ) -> list[SilenceRow]:
        rows = self._query(
            "SELECT id, start_at, end_at, author, reason, created_at, resident_id, device_id,"
            " kind, station_id, technical_only, cancelled_at, cancelled_by FROM alert_silences"
            " WHERE (?1 IS NULL OR (start_at <= ?1 AND end_at > ?1"
            "   AND (cancelled_at IS NULL OR cancelled_at > ?1)))"
            " AND (?2 OR ?1 IS NOT NULL OR cancelled_at IS NULL) ORDER BY start_at, id",
            (active_at, include_cancelled),
        )
        return [
            SilenceRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]),
                       r[11], r[12])
            for r in rows
        ]  # fmt: skip

    def set_escalation_policy(self, station_id: str, policy: dict[str, Any], at: float) -> None:
        with self._tx(f"set escalation policy of {station_id!r}") as db:
            db.execute(
                "INSERT INTO escalation_policies (station_id, policy, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (station_id) DO UPDATE SET policy = excluded.policy,"
                " updated_at = excluded.updated_at",
                (station_id, json.dumps(policy, ensure_ascii=False), at),
            )

    def escalation_policies(self) -> dict[str, dict[str, Any]]:
        rows = self._query("SELECT station_id, policy FROM escalation_policies ORDER BY 1")
        return {r[0]: json.loads(r[1]) for r in rows}

    # --- dashboard users, sessions, tokens --------------------------------------------------

    _USER_COLS = (
        "id, name, role, password_hash, created_at, scope_id, language, timezone, disabled, prefs"
    )

    def _user_rows(self, where: str, params: Sequence[Any]) -> list[UserRow]:
        rows = self._query(f"SELECT {self._USER_COLS} FROM users{where} ORDER BY id", params)
        links: dict[str, list[str]] = {}
        for uid, rid in self._query(
            "SELECT user_id, resident_id FROM user_residents ORDER BY user_id, resident_id"
        ):
            links.setdefault(uid, []).append(rid)
        return [
            UserRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple(links.get(r[0], ())), r[6], r[7],
                    bool(r[8]), json.loads(r[9]))
            for r in rows
        ]  # fmt: skip

    @staticmethod
    def _write_user(db: sqlite3.Connection, u: UserRow, insert: bool) -> None:
        prefs = json.dumps(u.prefs, ensure_ascii=False)
        params = (u.name, u.role, u.password_hash, u.created_at, u.scope_id, u.language,
                  u.timezone, u.disabled, prefs, u.id)  # fmt: skip
        if insert:
            db.execute(
                "INSERT INTO users (name, role, password_hash, created_at, scope_id, language,"
                " timezone, disabled, prefs, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params,
            )
        else:
            cur = db.execute(
                "UPDATE users SET name = ?, role = ?, password_hash = ?, created_at = ?,"
                " scope_id = ?, language = ?, timezone = ?, disabled = ?, prefs = ? WHERE id = ?",
                params,
            )
            if cur.rowcount == 0:
                raise NotFound(f"user {u.id!r}")
            db.execute("DELETE FROM user_residents WHERE user_id = ?", (u.id,))
        db.executemany(
            "INSERT INTO user_residents (user_id, resident_id) VALUES (?, ?)",
            [(u.id, rid) for rid in dict.fromkeys(u.resident_ids)],
        )

    def add_user(self, user: UserRow) -> None:
        with self._tx(f"add user {user.id!r}") as db:
            self._write_user(db, user, insert=True)

    def update_user(self, user: UserRow) -> None:
        with self._tx(f"update user {user.id!r}") as db:
            self._write_user(db, user, insert=False)

    def get_user(self, user_id: str) -> UserRow:
        rows = self._user_rows(" WHERE id = ?", (user_id,))
        if not rows:
            raise NotFound(f"user {user_id!r}")
        return rows[0]

    def list_users(
        self, *, role: str | None = None, scope_id: str | None = None,
        resident_id: str | None = None,
    ) -> list[UserRow]:  # fmt: skip
        return self._user_rows(
            " WHERE (?1 IS NULL OR role = ?1) AND (?2 IS NULL OR scope_id = ?2) AND (?3 IS NULL"
            " OR id IN (SELECT user_id FROM user_residents WHERE resident_id = ?3))",
            (role, scope_id, resident_id),
        )

    def add_session(self, session: SessionRow) -> None:
        s = session
        with self._tx("add session") as db:
            db.execute(
                "INSERT INTO user_sessions (id_hash, user_id, csrf_token, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (s.id_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at),
            )

    def get_session(self, id_hash: str) -> SessionRow:
        r = self._one(
            "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM user_sessions"
            " WHERE id_hash = ?",
            (id_hash,),
            "session",
        )
        return SessionRow(*r)

    def delete_sessions(
        self, *, id_hash: str | None = None, user_id: str | None = None,
        expired_before: float | None = None,
    ) -> int:  # fmt: skip
        if id_hash is None and user_id is None and expired_before is None:
            raise StoreError("delete_sessions needs at least one filter")
        with self._tx("delete sessions") as db:
            cur = db.execute(
                "DELETE FROM user_sessions WHERE (?1 IS NULL OR id_hash = ?1)"
                " AND (?2 IS NULL OR user_id = ?2) AND (?3 IS NULL OR expires_at < ?3)",
                (id_hash, user_id, expired_before),
            )
            return cur.rowcount

    def add_api_token(self, token: ApiTokenRow) -> None:
        t = token
        with self._tx(f"add API token {t.id!r}") as db:
            db.execute(
                "INSERT INTO api_tokens (id, user_id, token_hash, name, created_at, expires_at,"
                " revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (t.id, t.user_id, t.token_hash, t.name, t.created_at, t.expires_at, t.revoked_at),
            )

    _TOKEN_COLS = "id, user_id, token_hash, name, created_at, expires_at, revoked_at"  # noqa: S105

    def get_api_token(self, token_hash: str) -> ApiTokenRow:
        r = self._one(
            f"SELECT {self._TOKEN_COLS} FROM api_tokens WHERE token_hash = ?",
            (token_hash,),
            "API token",
        )
        return ApiTokenRow(*r)

    def list_api_tokens(self, user_id: str) -> list[ApiTokenRow]:
        rows = self._query(
            f"SELECT {self._TOKEN_COLS} FROM api_tokens WHERE user_id = ? ORDER BY created_at, id",
            (user_id,),
        )
        return [ApiTokenRow(*r) for r in rows]

    def revoke_api_token(self, token_id: str, at: float) -> None:
        with self._tx(f"revoke API token {token_id!r}") as db:
            cur = db.execute(
                "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                (at, token_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"API token {token_id!r}")

    # --- dashboard queries ------------------------------------------------------------------

    def latest_telemetry(self, device_ids: Sequence[str]) -> dict[str, TelemetryRow]:
        out: dict[str, TelemetryRow] = {}
        for device_id in dict.fromkeys(device_ids):
            rows = self._query(
                f"SELECT {', '.join(_TELEMETRY_COLS)} FROM telemetry WHERE device_id = ?"
                " ORDER BY ts DESC, seq DESC LIMIT 1",
                (device_id,),
            )
            if rows:
                out[device_id] = _telemetry_row(rows[0])
        return out

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
        return [_bucket(r) for r in rows]


def _bucket(r: Sequence[Any]) -> VitalsBucket:
    """(device_id, start, n, then mean, min, max of each series field) → VitalsBucket."""
    values: dict[str, tuple[float, float, float]] = {}
    for i, name in enumerate(VITALS_SERIES_FIELDS):
        mean, lo, hi = r[3 + 3 * i : 6 + 3 * i]
        if mean is not None:
            values[name] = (float(mean), float(lo), float(hi))
    return VitalsBucket(r[0], float(r[1]), int(r[2]), values)


# --- row conversion ---------------------------------------------------------------------


def _telemetry_params(t: TelemetryRow) -> tuple[Any, ...]:
    values = t.values
    return (
        t.device_id, t.seq, t.ts, t.received_at, *(values.get(f) for f in VITAL_FIELDS),
        _dumps(t.quality), _dumps(t.acc), _dumps(t.ext),
    )  # fmt: skip


_N_VITALS = len(VITAL_FIELDS)


def _telemetry_row(r: tuple[Any, ...]) -> TelemetryRow:
    vitals = r[4 : 4 + _N_VITALS]
    q, acc, ext = r[4 + _N_VITALS :]
    return TelemetryRow(
        device_id=r[0], seq=r[1], ts=r[2], received_at=r[3],
        values={f: v for f, v in zip(VITAL_FIELDS, vitals, strict=True) if v is not None},
        quality=_loads(q), acc=_loads(acc), ext=_loads(ext),
    )  # fmt: skip


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_ALERT_COLUMNS = (
    "id, open_key, kind, state, priority, category, resident_id, device_id, station_id,"
    " opened_at, updated_at, next_deadline, data, trigger_key"
)
_INSERT_ALERT = (
    f"INSERT INTO alerts ({_ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (trigger_key) DO NOTHING"
)
_UPDATE_ALERT = """
UPDATE alerts SET open_key = ?, kind = ?, state = ?, priority = ?, category = ?,
    resident_id = ?, device_id = ?, station_id = ?, opened_at = ?, updated_at = ?,
    next_deadline = ?, data = ?, trigger_key = ?
WHERE id = ?
"""


def _alert_params(a: AlertRow) -> tuple[Any, ...]:
    open_key = None if a.state == "resolved" else a.key
    return (
        a.id, open_key, a.kind, a.state, a.priority, a.category, a.resident_id, a.device_id,
        a.station_id, a.opened_at, a.updated_at, a.next_deadline,
        json.dumps(a.data, ensure_ascii=False), a.trigger,
    )  # fmt: skip
