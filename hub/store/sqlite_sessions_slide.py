"""SQLite: sliding sessions (a session's expiry moved on while its user is active)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import Protocol

from hub.errors import NotFound


class _Tx(Protocol):
    def _tx(self, what: str) -> AbstractContextManager[sqlite3.Connection]: ...


class SqliteSessionSlide:
    """Mixed into :class:`hub.store.sqlite.SqliteStore`."""

    def extend_session(self: _Tx, id_hash: str, expires_at: float) -> None:
        with self._tx("extend session") as db:
            cur = db.execute(
                "UPDATE user_sessions SET expires_at = ? WHERE id_hash = ?", (expires_at, id_hash)
            )
            if cur.rowcount == 0:
                raise NotFound("session")
