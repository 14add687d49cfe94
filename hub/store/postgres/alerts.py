"""Alerts, their timeline, the notification outbox, silences and escalation policies, on
PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.store import rows as cols
from hub.store.base import AlertRow, NotificationRow, SilenceRow, TimelineRow
from hub.store.postgres.codec import ROWS, filters, opt_dt, to_dt
from hub.store.postgres.connection import PostgresBase
from hub.store.shared_alerts import AlertWrites


class PostgresAlerts(AlertWrites, PostgresBase):
    """Alert queries: alerts, timeline, outbox, silences; one engine step a transaction
    (:class:`~hub.store.shared_alerts.AlertWrites`)."""

    def list_alerts(
        self, *, station_id: str | None = None, states: Sequence[str] | None = None,
        priority: str | None = None, resident_id: str | None = None,
        category: str | None = None, kind: str | None = None, limit: int = 100,
    ) -> list[AlertRow]:  # fmt: skip
        where, params = filters(
            ("state = ANY(%s)", None if states is None else list(states)),
            station_id=station_id, priority=priority, resident_id=resident_id,
            category=category, kind=kind,
        )  # fmt: skip
        rows = self._query(
            f"{cols.ALERT_SELECT}{where} ORDER BY opened_at DESC, id DESC LIMIT %s",
            [*params, limit],
        )
        return [ROWS.alert(r) for r in rows]

    def alert_timeline(
        self, *, alert_id: str | None = None, resident_id: str | None = None,
        since: float | None = None, limit: int = 1_000,
    ) -> list[TimelineRow]:  # fmt: skip
        where, params = filters(
            ("at >= %s", opt_dt(since)), alert_id=alert_id, resident_id=resident_id
        )
        rows = self._query(
            f"{cols.TIMELINE_SELECT}{where} ORDER BY at, id LIMIT %s",
            [*params, limit],
        )
        return [ROWS.timeline(r) for r in rows]

    def alert_notifications(
        self, *, alert_id: str | None = None, states: Sequence[str] | None = None,
        due_before: float | None = None, limit: int = 1_000,
    ) -> list[NotificationRow]:  # fmt: skip
        where, params = filters(
            ("state = ANY(%s)", None if states is None else list(states)),
            ("due_at <= %s", opt_dt(due_before)),
            alert_id=alert_id,
        )
        rows = self._query(
            f"{cols.NOTIFICATION_SELECT}{where} ORDER BY due_at, key LIMIT %s",
            [*params, limit],
        )
        return [ROWS.notification(r) for r in rows]

    def list_silences(
        self, *, active_at: float | None = None, include_cancelled: bool = False
    ) -> list[SilenceRow]:
        clauses: list[str] = []
        params: list[Any] = []
        if active_at is not None:
            at = to_dt(active_at)
            clauses.append(
                "start_at <= %s AND end_at > %s AND (cancelled_at IS NULL OR cancelled_at > %s)"
            )
            params += [at, at, at]
        if not include_cancelled and active_at is None:
            clauses.append("cancelled_at IS NULL")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._query(
            f"{cols.SILENCE_SELECT}{where} ORDER BY start_at, id",
            params,
        )
        return [ROWS.silence(r) for r in rows]
