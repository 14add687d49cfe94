"""Dead-letter retention on SQLite (a mixin of :class:`hub.store.sqlite.SqliteStore`)."""

from __future__ import annotations

from hub.store.base import DeadLetterPrune
from hub.store.sqlite.connection import SqliteBase


class SqliteDeadLetters(SqliteBase):
    """``prune_dead_letters`` of :class:`hub.store.base.Store`."""

    def prune_dead_letters(self, *, before: float, keep: int) -> DeadLetterPrune:
        with self._tx("pruning dead letters") as db:
            aged = db.execute("DELETE FROM dead_letters WHERE received_at < ?", (before,)).rowcount
            # ids grow with arrival: everything older than the newest `keep` goes
            row = db.execute(
                "SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET ?", (keep,)
            ).fetchone()
            capped = 0
            if row is not None:
                capped = db.execute("DELETE FROM dead_letters WHERE id <= ?", (row[0],)).rowcount
        return DeadLetterPrune(aged=aged, capped=capped)
