"""Dead-letter retention on PostgreSQL (a mixin of :class:`hub.store.postgres.PostgresStore`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import psycopg

from hub.store.base import DeadLetterPrune


class PostgresDeadLetters:
    """``prune_dead_letters`` of :class:`hub.store.base.Store`."""

    _conn: Callable[[str], AbstractContextManager[psycopg.Connection[Any]]]

    def prune_dead_letters(self, *, before: float, keep: int) -> DeadLetterPrune:
        with self._conn("pruning dead letters") as conn:
            aged = conn.execute(
                "DELETE FROM dead_letters WHERE received_at < %s",
                (datetime.fromtimestamp(before, UTC),),
            ).rowcount
            # ids grow with arrival: everything older than the newest `keep` goes
            row = conn.execute(
                "SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET %s", (keep,)
            ).fetchone()
            capped = 0
            if row is not None:
                capped = conn.execute("DELETE FROM dead_letters WHERE id <= %s", (row[0],)).rowcount
        return DeadLetterPrune(aged=aged, capped=capped)
