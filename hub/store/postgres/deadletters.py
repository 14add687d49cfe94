"""Dead-letter retention on PostgreSQL (a mixin of :class:`hub.store.postgres.PostgresStore`)."""

from __future__ import annotations

from hub.store.base import DeadLetterPrune
from hub.store.postgres.codec import to_dt
from hub.store.postgres.connection import PostgresBase


class PostgresDeadLetters(PostgresBase):
    """``prune_dead_letters`` of :class:`hub.store.base.Store`."""

    def prune_dead_letters(self, *, before: float, keep: int) -> DeadLetterPrune:
        with self._conn("pruning dead letters") as conn:
            aged = conn.execute(
                "DELETE FROM dead_letters WHERE received_at < %s",
                (to_dt(before),),
            ).rowcount
            # ids grow with arrival: everything older than the newest `keep` goes
            row = conn.execute(
                "SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET %s", (keep,)
            ).fetchone()
            capped = 0
            if row is not None:
                capped = conn.execute("DELETE FROM dead_letters WHERE id <= %s", (row[0],)).rowcount
        return DeadLetterPrune(aged=aged, capped=capped)
