"""PostgreSQL: sliding sessions (a session's expiry moved on while its user is active)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg

from hub.errors import NotFound


class _Conn(Protocol):
    def _conn(self, what: str) -> AbstractContextManager[psycopg.Connection[Any]]: ...


class PostgresSessionSlide:
    """Mixed into :class:`hub.store.postgres.PostgresStore`."""

    def extend_session(self: _Conn, id_hash: str, expires_at: float) -> None:
        with self._conn("extend session") as conn:
            cur = conn.execute(
                "UPDATE user_sessions SET expires_at = %s WHERE id_hash = %s",
                (datetime.fromtimestamp(expires_at, UTC), id_hash),
            )
            if cur.rowcount == 0:
                raise NotFound("session")
