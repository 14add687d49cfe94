"""One step of the alert engine written in one transaction, the same on both back-ends
(:meth:`AlertWrites.write_alert_changes`): its alerts, timeline entries, outbox rows and
the findings it took in. The SQL differs only in the parameter mark; times and JSON go as
each driver takes them (:class:`~hub.store.shared_writes.SharedWrites`).

Several processes write alerts, each from its own copy in memory (cluster workers, dashboard
nodes), so an alert row is written **compare-and-set on its version**: a new alert
(``version`` 0) is inserted as version 1, and an update names the version it was decided on
and applies only where the row still has it, moving it on by one. Outbox rows are updated
the same way (a new one is inserted as version 1): the worker recording a delivery result
cannot overwrite a cancellation a dashboard node made meanwhile. When any alert or outbox
row of the step no longer has its version, nothing of the step is written and
:class:`~hub.errors.AlertConflict` names them: under PostgreSQL's READ COMMITTED an
update waits for a concurrent writer of the row and then checks the version it committed;
SQLite has one writer at a time.
"""

from __future__ import annotations

import time
from contextlib import closing
from typing import Any

from hub.errors import AlertConflict, AlertExists
from hub.store import rows as cols
from hub.store.protocols.alerts import AlertChanges, AlertRow, NotificationRow
from hub.store.shared_writes import SharedWrites

_ALERT_FIELDS = [c.strip() for c in cols.ALERT_COLUMNS.split(",")]


class AlertWrites(SharedWrites):
    """The alert areas' write of one engine step; see the module docstring."""

    def write_alert_changes(self, changes: AlertChanges) -> None:
        with self._transaction("write alert changes") as conn, closing(conn.cursor()) as cur:
            stale = [a.id for a in changes.alerts if not self._write_alert(cur, a)]
            rows = [n for n in changes.notification_updates if not self._update_row(cur, n)]
            if stale or rows:  # leaving the transaction rolls it back
                alert_ids = dict.fromkeys([*stale, *(n.alert_id for n in rows)])
                raise AlertConflict(list(alert_ids), [n.key for n in rows])
            marks = self._marks
            if changes.timeline:
                cur.executemany(
                    "INSERT INTO alert_timeline (alert_id, resident_id, at, actor, action, detail)"
                    f" VALUES ({marks(6)})",
                    [(t.alert_id, t.resident_id, self._at(t.at), t.actor, t.action,
                      self._json(t.detail, ensure_ascii=False)) for t in changes.timeline],
                )  # fmt: skip
            if changes.notifications:
                cur.executemany(
                    "INSERT INTO alert_notifications (key, alert_id, round, target, channel,"
                    " contact_id, language, state, attempts, last_error, due_at, created_at,"
                    f" updated_at, sent_at) VALUES ({marks(14)}) ON CONFLICT (key) DO NOTHING",
                    [(n.key, n.alert_id, n.round, n.target, n.channel, n.contact_id, n.language,
                      n.state, n.attempts, n.last_error, self._at(n.due_at),
                      self._at(n.created_at), self._at(_updated_at(n)), self._opt_at(n.sent_at))
                     for n in changes.notifications],
                )  # fmt: skip
            if changes.handled_findings:
                at = changes.handled_at if changes.handled_at is not None else time.time()
                self._handled(cur, changes.handled_findings, at)

    def _write_alert(self, cur: Any, a: AlertRow) -> bool:
        """Insert a new alert (``version`` 0), or update a stored one where it still has the
        version read, moving that on by one; False when it no longer has it."""
        if a.version == 0:
            self._insert_alert(cur, a)
            return True
        m = self._mark
        params = self._alert_params(a)
        sets = ", ".join(f"{c} = {m}" for c in _ALERT_FIELDS[1:])  # every column but the id
        return bool(cur.execute(
            f"UPDATE alerts SET {sets}, version = version + 1 WHERE id = {m} AND version = {m}",
            (*params[1:], a.id, a.version),
        ).rowcount)  # fmt: skip

    def _update_row(self, cur: Any, n: NotificationRow) -> bool:
        """Update an outbox row where it still has the version read, moving that on by one;
        False when it no longer has it."""
        m = self._mark
        return bool(cur.execute(
            f"UPDATE alert_notifications SET state = {m}, attempts = {m}, last_error = {m},"
            f" due_at = {m}, updated_at = {m}, sent_at = {m}, version = version + 1"
            f" WHERE key = {m} AND version = {m}",
            (n.state, n.attempts, n.last_error, self._at(n.due_at), self._at(_updated_at(n)),
             self._opt_at(n.sent_at), n.key, n.version),
        ).rowcount)  # fmt: skip

    def _insert_alert(self, cur: Any, a: AlertRow) -> None:
        """A new alert, idempotent on its trigger (the finding that opened it):
        :class:`AlertExists` when that opened another."""
        params = self._alert_params(a)
        inserted = cur.execute(
            f"INSERT INTO alerts ({cols.ALERT_COLUMNS}) VALUES ({self._marks(len(params))})"
            " ON CONFLICT (trigger_key) DO NOTHING",
            params,
        ).rowcount
        if not inserted:
            row = cur.execute(
                f"SELECT id FROM alerts WHERE trigger_key = {self._mark}", (a.trigger,)
            ).fetchone()
            raise AlertExists(a.trigger or "", row[0] if row else "?")

    def _alert_params(self, a: AlertRow) -> tuple[Any, ...]:
        """The values of :data:`~hub.store.rows.ALERT_COLUMNS`; a resolved alert keeps no
        open key (the key is unique among unresolved alerts only)."""
        open_key = None if a.state == "resolved" else a.key
        return (
            a.id, open_key, a.kind, a.state, a.priority, a.category, a.resident_id,
            a.device_id, a.station_id, self._at(a.opened_at), self._at(a.updated_at),
            self._opt_at(a.next_deadline), self._json(a.data, ensure_ascii=False), a.trigger,
        )  # fmt: skip


def _updated_at(n: NotificationRow) -> float:
    """An outbox row's last change: its creation until something else happened to it."""
    return n.updated_at if n.updated_at is not None else n.created_at
