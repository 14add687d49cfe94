"""The stores the fuzzer writes to, and what the oracles read back from them.

``open_backend("sqlite")`` makes a migrated SQLite store in a temporary directory;
``open_backend("postgres")`` a migrated store in a throwaway database on the server named by
``CAREHUB_TEST_PG_URL`` (as the test suite's fixtures do), dropped afterwards. Each comes
with a :class:`Readback`: its own connection and plain SQL, so the oracles do not take the
store's word for what the store kept.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from hub.store.base import Store
from hub.store.postgres import PostgresStore
from hub.store.sqlite import SqliteStore
from tests.fixtures.databases import PgDatabases, admin_url
from tests.fuzz.seeds import DEVICES

BACKENDS = ("sqlite", "postgres")

TABLES = {
    "telemetry": "telemetry",
    "event": "events",
    "status": "status_log",
    "reply": "command_replies",
}
"""Message class → the table its accepted messages go to."""


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter as read back: only what the oracles look at."""

    id: int
    received_at: float
    code: str
    detail: str
    payload_size: int
    """Bytes of the payload kept."""
    whole_size: int | None
    """Size of the whole payload when only a prefix is kept."""


class Readback:
    """Reads the fuzzed database on a connection of its own."""

    def __init__(self, connect: Any, placeholder: str, epoch: str) -> None:
        self._conn = connect()
        self._p = placeholder
        self._epoch = epoch  # SQL turning received_at into epoch seconds

    def letters_after(self, last_id: int) -> list[Letter]:
        """Dead letters written after ``last_id``, in id order."""
        rows = self._conn.execute(
            f"SELECT id, {self._epoch.format('received_at')}, code, detail, length(payload),"
            f" payload_size FROM dead_letters WHERE id > {self._p} ORDER BY id",
            (last_id,),
        ).fetchall()
        self._end()
        return [Letter(*r) for r in rows]

    def rows_per_device(self, table: str) -> dict[str, int]:
        rows = self._conn.execute(
            f"SELECT device_id, count(*) FROM {table} GROUP BY device_id"
        ).fetchall()
        self._end()
        return dict(rows)

    def dead_letter_count(self) -> int:
        (n,) = self._conn.execute("SELECT count(*) FROM dead_letters").fetchone()
        self._end()
        return int(n)

    def _end(self) -> None:
        self._conn.rollback()  # no snapshot held between reads (PostgreSQL)

    def close(self) -> None:
        self._conn.close()


def provision(store: Store) -> None:
    """Register the fuzzer's devices (gateways first)."""
    for device in DEVICES:
        store.add_device(device)


@contextlib.contextmanager
def open_backend(name: str, pg_url: str | None = None) -> Iterator[tuple[Store, Readback]]:
    """A fresh, migrated, provisioned store of back-end ``name`` and its read-back.

    ``pg_url``: an empty PostgreSQL database to use (the tests' fixture makes one);
    otherwise a throwaway one is created and dropped."""
    if name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="carehub-fuzz-") as tmp:
            path = Path(tmp) / "fuzz.db"
            lite = SqliteStore(path)
            lite.migrate()
            with _opened(lite, Readback(lambda: sqlite3.connect(path), "?", "{}")) as pair:
                yield pair
        return
    if name != "postgres":
        raise ValueError(f"unknown back-end {name!r}; choose from {', '.join(BACKENDS)}")
    dbs = PgDatabases(admin_url())
    url = pg_url or dbs.create()
    try:
        pg = PostgresStore(url, max_size=4)
        pg.open()
        pg.migrate()
        readback = Readback(lambda: psycopg.connect(url), "%s", "extract(epoch FROM {})::float8")
        with _opened(pg, readback) as pair:
            yield pair
    finally:
        dbs.drop_all()


@contextlib.contextmanager
def _opened(store: Store, readback: Readback) -> Iterator[tuple[Store, Readback]]:
    try:
        provision(store)
        yield store, readback
    finally:
        readback.close()
        store.close()
