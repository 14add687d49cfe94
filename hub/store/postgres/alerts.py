"""Alerts, their timeline, the notification outbox, silences and escalation policies, on
PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from hub.errors import AlertExists
from hub.store import rows as cols
from hub.store.base import AlertChanges, AlertRow, NotificationRow, SilenceRow, TimelineRow
from hub.store.postgres.codec import ROWS, filters, opt_dt, to_dt
from hub.store.postgres.connection import PostgresBase

INSERT_ALERT = (
    f"INSERT INTO alerts ({cols.ALERT_COLUMNS}) VALUES"
    " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (trigger_key) DO NOTHING"
)


UPDATE_ALERT = """
UPDATE alerts SET open_key = %s, kind = %s, state = %s, priority = %s, category = %s,
    resident_id = %s, device_id = %s, station_id = %s, opened_at = %s, updated_at = %s,
    next_deadline = %s, data = %s, trigger_key = %s
WHERE id = %s
"""


class PostgresAlerts(PostgresBase):
    """One engine step a transaction; alerts, timeline, outbox, silences, policies."""

    def write_alert_changes(self, changes: AlertChanges) -> None:
        with self._conn("write alert changes") as conn, conn.cursor() as cur:
            for a in changes.alerts:
                params = _alert_params(a)
                if cur.execute(UPDATE_ALERT, (*params[1:], params[0])).rowcount:
                    continue
                # a new alert: idempotent on its trigger, the finding that opened it
                if not cur.execute(INSERT_ALERT, params).rowcount:
                    row = cur.execute(
                        "SELECT id FROM alerts WHERE trigger_key = %s", (a.trigger,)
                    ).fetchone()
                    raise AlertExists(a.trigger or "", row[0] if row else "?")
            if changes.timeline:
                cur.executemany(
                    "INSERT INTO alert_timeline (alert_id, resident_id, at, actor, action, detail)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [(t.alert_id, t.resident_id, to_dt(t.at), t.actor, t.action, Jsonb(t.detail))
                     for t in changes.timeline],
                )  # fmt: skip
            if changes.notifications:
                cur.executemany(
                    "INSERT INTO alert_notifications (key, alert_id, round, target, channel,"
                    " contact_id, language, state, attempts, last_error, due_at, created_at,"
                    " updated_at, sent_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                    " %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                    [(n.key, n.alert_id, n.round, n.target, n.channel, n.contact_id, n.language,
                      n.state, n.attempts, n.last_error, to_dt(n.due_at), to_dt(n.created_at),
                      to_dt(n.updated_at if n.updated_at is not None else n.created_at),
                      opt_dt(n.sent_at)) for n in changes.notifications],
                )  # fmt: skip
            if changes.notification_updates:
                cur.executemany(
                    "UPDATE alert_notifications SET state = %s, attempts = %s, last_error = %s,"
                    " due_at = %s, updated_at = %s, sent_at = %s WHERE key = %s",
                    [(n.state, n.attempts, n.last_error, to_dt(n.due_at),
                      to_dt(n.updated_at if n.updated_at is not None else n.created_at),
                      opt_dt(n.sent_at), n.key) for n in changes.notification_updates],
                )  # fmt: skip
            if changes.handled_findings:
                at = changes.handled_at if changes.handled_at is not None else time.time()
                cur.execute(
                    "UPDATE findings SET handled_at = %s WHERE id = ANY(%s) AND handled_at IS NULL",
                    (to_dt(at), list(changes.handled_findings)),
                )

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


def _alert_params(a: AlertRow) -> tuple[Any, ...]:
    open_key = None if a.state == "resolved" else a.key
    return (
        a.id, open_key, a.kind, a.state, a.priority, a.category, a.resident_id, a.device_id,
        a.station_id, to_dt(a.opened_at), to_dt(a.updated_at), opt_dt(a.next_deadline),
        Jsonb(a.data), a.trigger,
    )  # fmt: skip
