"""Dashboard users, sessions and API tokens on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.errors import NotFound, StoreError
from hub.store import rows as cols
from hub.store.base import UserRow
from hub.store.postgres.codec import ROWS, filters, opt_dt, to_dt
from hub.store.postgres.connection import PostgresBase


class PostgresUsers(PostgresBase):
    """Users with their resident links, browser sessions, API tokens."""

    def _user_rows(self, where: str, params: Sequence[Any]) -> list[UserRow]:
        with self._conn("query users") as conn:
            rows = conn.execute(f"{cols.USER_SELECT}{where} ORDER BY id", params).fetchall()
            links = cols.resident_links(conn.execute(cols.USER_LINKS_SELECT))
        return [ROWS.user(r, links) for r in rows]

    def list_users(
        self, *, role: str | None = None, scope_id: str | None = None,
        resident_id: str | None = None,
    ) -> list[UserRow]:  # fmt: skip
        where, params = filters(
            ("id IN (SELECT user_id FROM user_residents WHERE resident_id = %s)", resident_id),
            role=role, scope_id=scope_id,
        )  # fmt: skip
        return self._user_rows(where, params)

    def delete_sessions(
        self, *, id_hash: str | None = None, user_id: str | None = None,
        expired_before: float | None = None,
    ) -> int:  # fmt: skip
        if id_hash is None and user_id is None and expired_before is None:
            raise StoreError("delete_sessions needs at least one filter")
        clauses: list[str] = []
        params: list[Any] = []
        for sql, value in (("id_hash = %s", id_hash), ("user_id = %s", user_id),
                           ("expires_at < %s", opt_dt(expired_before))):  # fmt: skip
            if value is not None:
                clauses.append(sql)
                params.append(value)
        with self._conn("delete sessions") as conn:
            cur = conn.execute(f"DELETE FROM user_sessions WHERE {' AND '.join(clauses)}", params)
            return cur.rowcount

    def extend_session(self, id_hash: str, expires_at: float) -> None:
        with self._conn("extend session") as conn:
            cur = conn.execute(
                "UPDATE user_sessions SET expires_at = %s WHERE id_hash = %s",
                (to_dt(expires_at), id_hash),
            )
            if cur.rowcount == 0:
                raise NotFound("session")
