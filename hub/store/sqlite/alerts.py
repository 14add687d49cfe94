"""Alerts, their timeline, the notification outbox, silences and escalation policies on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.store import rows as cols
from hub.store.base import AlertRow, NotificationRow, SilenceRow, TimelineRow
from hub.store.shared_alerts import AlertWrites
from hub.store.sqlite.connection import ROWS, SqliteBase


def _and_in(column: str, values: Sequence[str]) -> str:
    """`` AND column IN (?, ...)``, one ``?`` a value (``IN (NULL)``, matching nothing, for none).

    >>> _and_in("state", ["open", "acknowledged"]), _and_in("state", [])
    (' AND state IN (?, ?)', ' AND state IN (NULL)')
    """
    return f" AND {column} IN ({', '.join('?' * len(values)) or 'NULL'})"


class SqliteAlerts(AlertWrites, SqliteBase):
    """Alert queries: alerts, timeline, outbox, silences; one engine step a transaction
    (:class:`~hub.store.shared_alerts.AlertWrites`)."""

    def list_alerts(
        self, *, station_id: str | None = None, states: Sequence[str] | None = None,
        priority: str | None = None, resident_id: str | None = None,
        category: str | None = None, kind: str | None = None, limit: int = 100,
    ) -> list[AlertRow]:  # fmt: skip
        where = (
            " WHERE (?1 IS NULL OR station_id = ?1) AND (?2 IS NULL OR priority = ?2)"
            " AND (?3 IS NULL OR resident_id = ?3) AND (?4 IS NULL OR category = ?4)"
            " AND (?5 IS NULL OR kind = ?5)"
        )
        params: list[Any] = [station_id, priority, resident_id, category, kind]
        if states is not None:
            where += _and_in("state", states)
            params += list(states)
        rows = self._query(
            f"{cols.ALERT_SELECT}{where} ORDER BY opened_at DESC, id DESC LIMIT {int(limit)}",
            params,
        )
        return [ROWS.alert(r) for r in rows]

    def alert_timeline(
        self, *, alert_id: str | None = None, resident_id: str | None = None,
        since: float | None = None, limit: int = 1_000,
    ) -> list[TimelineRow]:  # fmt: skip
        rows = self._query(
            f"{cols.TIMELINE_SELECT}"
            " WHERE (?1 IS NULL OR alert_id = ?1) AND (?2 IS NULL OR resident_id = ?2)"
            " AND (?3 IS NULL OR at >= ?3) ORDER BY at, id LIMIT ?4",
            (alert_id, resident_id, since, limit),
        )
        return [ROWS.timeline(r) for r in rows]

    def alert_notifications(
        self, *, alert_id: str | None = None, states: Sequence[str] | None = None,
        due_before: float | None = None, limit: int = 1_000,
    ) -> list[NotificationRow]:  # fmt: skip
        where = " WHERE (?1 IS NULL OR alert_id = ?1) AND (?2 IS NULL OR due_at <= ?2)"
        params: list[Any] = [alert_id, due_before]
        if states is not None:
            where += _and_in("state", states)
            params += list(states)
        rows = self._query(
            f"{cols.NOTIFICATION_SELECT}{where} ORDER BY due_at, key LIMIT {int(limit)}",
            params,
        )
        return [ROWS.notification(r) for r in rows]

    def list_silences(
        self, *, active_at: float | None = None, include_cancelled: bool = False
    ) -> list[SilenceRow]:
        rows = self._query(
            f"{cols.SILENCE_SELECT}"
            " WHERE (?1 IS NULL OR (start_at <= ?1 AND end_at > ?1"
            "   AND (cancelled_at IS NULL OR cancelled_at > ?1)))"
            " AND (?2 OR ?1 IS NOT NULL OR cancelled_at IS NULL) ORDER BY start_at, id",
            (active_at, include_cancelled),
        )
        return [ROWS.silence(r) for r in rows]
