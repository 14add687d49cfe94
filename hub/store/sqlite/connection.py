"""The SQLite connection every area of :class:`~hub.store.sqlite.SqliteStore` shares.

One connection guarded by a lock serves every thread (``check_same_thread=False``); WAL
lets readers in other processes (a backup, ``sqlite3`` on the command line) work during
writes. Times are REAL epoch seconds, JSON is TEXT, payloads are BLOB. sqlite3's errors
leave as the hub's (:func:`convert`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from hub.errors import Conflict, MigrationError, StoreError, StoreRefused, StoreUnavailable
from hub.store import migrations
from hub.store import rows as cols
from hub.store.shared_writes import SharedWrites

BUSY_TIMEOUT_MS = 5_000
"""How long a writer waits for another process's write lock before failing."""


_BINDING_ERRORS = (OverflowError, UnicodeEncodeError)
"""What sqlite3 raises, outside its own hierarchy, for a value it cannot bind: an integer
beyond 64 bits, a string with a lone surrogate."""


def loads(text: str | None) -> Any:
    """JSON text to its value, None for None."""
    return None if text is None else json.loads(text)


ROWS = cols.Rows(ts=lambda v: v, opt_ts=lambda v: v, json=loads)
"""SQLite hands times back as stored (REAL epoch seconds) and JSON as TEXT."""


class SqliteBase(SharedWrites):
    """The connection, its transactions and migrations; the areas' mixins build on it."""

    backend = "sqlite"
    _rows = ROWS
    _mark = "?"

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

    @contextmanager
    def _tx(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction; sqlite3 errors leave as hub.errors."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise convert(exc, what) from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, (sqlite3.Error, *_BINDING_ERRORS)):
                    raise convert(exc, what) from exc
                raise

    def _transaction(self, what: str) -> AbstractContextManager[sqlite3.Connection]:
        return self._tx(what)

    def _json(self, value: Any, *, ensure_ascii: bool = True) -> str:
        return json.dumps(value, ensure_ascii=ensure_ascii)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise convert(exc, "query") from exc

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


def dumps(value: Any) -> str | None:
    """Compact JSON text, None for None (telemetry's optional JSON columns)."""
    return None if value is None else json.dumps(value, separators=(",", ":"))


def convert(exc: sqlite3.Error | ValueError | ArithmeticError, what: str) -> StoreError:
    """Refused (the data: constraints, values SQLite cannot take) apart from unavailable
    (locked or busy beyond the timeout, I/O errors), as :mod:`hub.store.postgres.errors` does."""
    if isinstance(exc, sqlite3.IntegrityError):
        return Conflict(f"{what}: {exc}")
    if isinstance(exc, (sqlite3.DataError, sqlite3.InterfaceError, *_BINDING_ERRORS)):
        return StoreRefused(f"{what}: {exc}")
    if isinstance(exc, sqlite3.OperationalError):
        return StoreUnavailable(f"{what}: {exc}")
    return StoreError(f"{what}: {exc}")
