"""The PostgreSQL connection pool every area of :class:`~hub.store.postgres.PostgresStore`
shares: opening it (and detecting TimescaleDB), transactions, migrations.

The constructor does no I/O; :meth:`PostgresBase.open` opens the pool (the app lifespan or
:func:`hub.store.open_store` calls it). psycopg's errors leave as the hub's
(:mod:`hub.store.postgres.errors`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import orjson
import psycopg
import psycopg.errors
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from hub.errors import MigrationError, StoreError, StoreUnavailable
from hub.store import migrations
from hub.store.postgres.codec import ROWS, to_dt
from hub.store.postgres.errors import DRIVER_ERRORS, convert
from hub.store.shared_writes import SharedWrites

log = logging.getLogger(__name__)


MIGRATION_LOCK = 0x6361_7265_6875_62
"""pg_advisory_xact_lock key ("carehub"): hub workers starting together migrate in turn."""


DEFAULT_RETENTION = "400 days"


class PostgresBase(SharedWrites):
    """The pool, its transactions and migrations; the areas' mixins build on it."""

    _rows = ROWS
    _mark = "%s"

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 8, timescale: bool | None = None,
        telemetry_retention: str = DEFAULT_RETENTION,
    ) -> None:  # fmt: skip
        self.url = url
        self.backend = "postgres"
        self.telemetry_retention = telemetry_retention
        self._prefer_timescale = timescale
        self._pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False, name="carehub-store",
            check=ConnectionPool.check_connection, configure=configure_json,
        )  # fmt: skip

    def open(self, timeout: float = 10.0) -> None:
        """Open the pool (waiting for its first connection) and detect TimescaleDB."""
        try:
            self._pool.open(wait=True, timeout=timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreUnavailable(f"cannot connect to PostgreSQL within {timeout:g} s") from exc
        try:
            available, applied = self._detect_timescale()
            self.backend = choose_backend(
                available=available, applied=applied, prefer=self._prefer_timescale
            )
        except BaseException:
            self._pool.close()
            raise

    def _detect_timescale(self) -> tuple[bool, bool]:
        """(extension available on the server, extension already installed here)."""
        with self._conn("detect TimescaleDB") as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),"
                " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')"
            ).fetchone()
        return (bool(row[0]), bool(row[1])) if row else (False, False)

    @contextmanager
    def _conn(self, what: str) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction (committed on success); psycopg errors leave
        as hub.errors (:mod:`hub.store.postgres.errors`)."""
        try:
            # an explicit outer transaction makes nested conn.transaction() a savepoint
            with self._pool.connection() as conn, conn.transaction():
                yield conn
        except DRIVER_ERRORS as exc:  # unavailable (retry) or refused (the data): see there
            raise convert(exc, what) from exc

    def _at(self, ts: float) -> Any:
        return to_dt(ts)

    def _transaction(self, what: str) -> AbstractContextManager[psycopg.Connection[Any]]:
        return self._conn(what)

    def _json(self, value: Any, *, ensure_ascii: bool = True) -> Jsonb:
        # jsonb keeps values, not text: ensure_ascii only matters where JSON is TEXT (SQLite)
        return Jsonb(value)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn("query") as conn:
            return conn.execute(sql, params).fetchall()

    def available_migrations(self) -> list[migrations.Migration]:
        """Every migration this back-end uses, in order (TimescaleDB's after PostgreSQL's)."""
        found = migrations.load("postgres")
        if self.backend == "timescale":
            found += migrations.load("timescale")
        return found

    def migrate(self) -> list[str]:
        applied: list[str] = []
        for mig in self.available_migrations():
            try:
                with self._conn(f"migration {mig.name}") as conn:
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY,"
                        " applied_at timestamptz NOT NULL DEFAULT now())"
                    )
                    done = conn.execute(
                        "SELECT 1 FROM schema_migrations WHERE version = %s", (mig.version,)
                    ).fetchone()
                    if done:
                        continue
                    if mig.version.startswith("timescale/"):
                        conn.execute(
                            "SELECT set_config('carehub.telemetry_retention', %s, true)",
                            (self.telemetry_retention,),
                        )
                    for statement in mig.statements():
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO schema_migrations (version) VALUES (%s)", (mig.version,)
                    )
            except StoreError as exc:
                raise MigrationError(str(exc)) from exc
            log.info("applied migration %s", mig.name)
            applied.append(mig.version)
        return applied

    def close(self) -> None:
        self._pool.close()


def configure_json(conn: psycopg.Connection[Any]) -> None:
    """JSON through orjson on this connection: telemetry rows carry JSON columns (signal
    quality, accelerometer bursts), and the standard library's encoder was about a quarter
    of the time of a COPY batch (measured with bench/ingest.py's COPY comparison)."""
    set_json_dumps(orjson.dumps, conn)
    set_json_loads(orjson.loads, conn)


def choose_backend(*, available: bool, applied: bool, prefer: bool | None) -> str:
    """``"timescale"`` when the extension is (or was) in use, else ``"postgres"``.

    ``prefer``: None detects, False never uses it, True requires it.

    >>> choose_backend(available=True, applied=False, prefer=None)
    'timescale'
    >>> choose_backend(available=True, applied=False, prefer=False)
    'postgres'
    """
    if applied:
        return "timescale"
    if prefer is True and not available:
        raise StoreError("TimescaleDB was required but the extension is not available")
    return "timescale" if available and prefer is not False else "postgres"


def returned_ids(cur: psycopg.Cursor[Any]) -> list[int]:
    """The ids a ``RETURNING id`` statement gave for each row of ``executemany``."""
    ids: list[int] = []
    while True:
        row = cur.fetchone()
        assert row is not None
        ids.append(row[0])
        if not cur.nextset():
            return ids
