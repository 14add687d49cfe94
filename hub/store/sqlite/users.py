"""Dashboard users, sessions and API tokens on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.errors import NotFound, StoreError
from hub.store import rows as cols
from hub.store.base import UserRow
from hub.store.sqlite.connection import ROWS, SqliteBase


class SqliteUsers(SqliteBase):
    """Users with their resident links, browser sessions, API tokens."""

    def _user_rows(self, where: str, params: Sequence[Any]) -> list[UserRow]:
        rows = self._query(f"{cols.USER_SELECT}{where} ORDER BY id", params)
        links = cols.resident_links(self._query(cols.USER_LINKS_SELECT))
        return [ROWS.user(r, links) for r in rows]

    def list_users(
        self, *, role: str | None = None, scope_id: str | None = None,
        resident_id: str | None = None,
    ) -> list[UserRow]:  # fmt: skip
        return self._user_rows(
            " WHERE (?1 IS NULL OR role = ?1) AND (?2 IS NULL OR scope_id = ?2) AND (?3 IS NULL"
            " OR id IN (SELECT user_id FROM user_residents WHERE resident_id = ?3))",
            (role, scope_id, resident_id),
        )

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

    def extend_session(self, id_hash: str, expires_at: float) -> None:
        with self._tx("extend session") as db:
            cur = db.execute(
                "UPDATE user_sessions SET expires_at = ? WHERE id_hash = ?", (expires_at, id_hash)
            )
            if cur.rowcount == 0:
                raise NotFound("session")
