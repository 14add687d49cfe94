"""Alerts, their timeline, the notification outbox, silences and escalation policies on SQLite."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from hub.errors import AlertExists
from hub.store import rows as cols
from hub.store.base import AlertChanges, AlertRow, NotificationRow, SilenceRow, TimelineRow
from hub.store.sqlite.connection import ROWS, SqliteBase

_INSERT_ALERT = (
    f"INSERT INTO alerts ({cols.ALERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (trigger_key) DO NOTHING"
)


_UPDATE_ALERT = """
UPDATE alerts SET open_key = ?, kind = ?, state = ?, priority = ?, category = ?,
    resident_id = ?, device_id = ?, station_id = ?, opened_at = ?, updated_at = ?,
    next_deadline = ?, data = ?, trigger_key = ?
WHERE id = ?
"""


def _and_in(column: str, values: Sequence[str]) -> str:
    """`` AND column IN (?, ...)``, one ``?`` a value (``IN (NULL)``, matching nothing, for none).

    >>> _and_in("state", ["open", "acknowledged"]), _and_in("state", [])
    (' AND state IN (?, ?)', ' AND state IN (NULL)')
    """
    return f" AND {column} IN ({', '.join('?' * len(values)) or 'NULL'})"


class SqliteAlerts(SqliteBase):
    """One engine step a transaction; alerts, timeline, outbox, silences, policies."""

    def write_alert_changes(self, changes: AlertChanges) -> None:
        with self._tx("write alert changes") as db:
            for a in changes.alerts:
                params = _alert_params(a)
                if db.execute(_UPDATE_ALERT, (*params[1:], params[0])).rowcount:
                    continue
                # a new alert: idempotent on its trigger, the finding that opened it
                if not db.execute(_INSERT_ALERT, params).rowcount:
                    [(existing,)] = db.execute(
                        "SELECT id FROM alerts WHERE trigger_key = ?", (a.trigger,)
                    ).fetchall()
                    raise AlertExists(a.trigger or "", existing)
            if changes.timeline:
                db.executemany(
                    "INSERT INTO alert_timeline (alert_id, resident_id, at, actor, action, detail)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(t.alert_id, t.resident_id, t.at, t.actor, t.action,
                      json.dumps(t.detail, ensure_ascii=False)) for t in changes.timeline],
                )  # fmt: skip
            if changes.notifications:
                db.executemany(
                    "INSERT INTO alert_notifications (key, alert_id, round, target, channel,"
                    " contact_id, language, state, attempts, last_error, due_at, created_at,"
                    " updated_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    [(n.key, n.alert_id, n.round, n.target, n.channel, n.contact_id, n.language,
                      n.state, n.attempts, n.last_error, n.due_at, n.created_at,
                      n.updated_at if n.updated_at is not None else n.created_at, n.sent_at)
                     for n in changes.notifications],
                )  # fmt: skip
            if changes.notification_updates:
                db.executemany(
                    "UPDATE alert_notifications SET state = ?, attempts = ?, last_error = ?,"
                    " due_at = ?, updated_at = ?, sent_at = ? WHERE key = ?",
                    [(n.state, n.attempts, n.last_error, n.due_at,
                      n.updated_at if n.updated_at is not None else n.created_at, n.sent_at,
                      n.key) for n in changes.notification_updates],
                )  # fmt: skip
            if changes.handled_findings:
                at = changes.handled_at if changes.handled_at is not None else time.time()
                db.executemany(
                    "UPDATE findings SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                    [(at, i) for i in changes.handled_findings],
                )

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


def _alert_params(a: AlertRow) -> tuple[Any, ...]:
    open_key = None if a.state == "resolved" else a.key
    return (
        a.id, open_key, a.kind, a.state, a.priority, a.category, a.resident_id, a.device_id,
        a.station_id, a.opened_at, a.updated_at, a.next_deadline,
        json.dumps(a.data, ensure_ascii=False), a.trigger,
    )  # fmt: skip
