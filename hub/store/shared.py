"""The reads both back-ends run alike: the same SQL but for the parameter mark (``?`` for
sqlite3, ``%s`` for psycopg) and how a time is passed, the same mapping to records
(:mod:`hub.store.rows`).

:class:`SharedReads` is the base of both connection classes
(:class:`~hub.store.sqlite.connection.SqliteBase`,
:class:`~hub.store.postgres.connection.PostgresBase`), which supply ``_query``, ``_rows``,
``_mark`` and ``_at``. What differs between the databases (optional filters, arrays,
COPY, upserts) stays in each back-end's area modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from hub.errors import NotFound
from hub.store import rows as cols
from hub.store.protocols.alerts import AlertRow, NotificationRow
from hub.store.protocols.findings import FindingRow
from hub.store.protocols.ingest import DeviceState, EventRow, StatusChange, TelemetryRow
from hub.store.protocols.registry import City, Contact, Device, Resident, Station, Unprovisioned
from hub.store.protocols.users import ApiTokenRow, SessionRow, UserRow


class SharedReads:
    """Reads whose SQL both back-ends share; see the module docstring."""

    _rows: ClassVar[cols.Rows]
    _mark: ClassVar[str]
    """The driver's parameter mark."""

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _at(self, ts: float) -> Any:
        """A time as the driver takes it (epoch seconds unless a back-end says otherwise)."""
        return ts

    def _user_rows(self, where: str, params: Sequence[Any]) -> list[UserRow]:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any], missing: str) -> tuple[Any, ...]:
        rows = self._query(sql, params)
        if not rows:
            raise NotFound(missing)
        return rows[0]

    def _marks(self, n: int) -> str:
        """``n`` parameter marks, comma-separated (a VALUES list, an ``IN (...)``)."""
        return ", ".join([self._mark] * n)

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column IN (...)`` for a non-empty list; ``1 = 0`` for an empty one."""
        if not values:
            return "1 = 0", []
        return f"{column} IN ({self._marks(len(values))})", list(values)

    def _by_id(self, select: str, key: str, value: str, missing: str) -> tuple[Any, ...]:
        """The one row of ``select`` whose ``key`` is ``value``; NotFound(missing) if none."""
        return self._one(f"{select} WHERE {key} = {self._mark}", (value,), missing)

    # registry

    def list_cities(self) -> list[City]:
        return [self._rows.city(r) for r in self._query("SELECT id, name FROM cities ORDER BY id")]

    def get_station(self, station_id: str) -> Station:
        row = self._by_id(cols.STATION_SELECT, "id", station_id, f"station {station_id!r}")
        return self._rows.station(row)

    def get_resident(self, resident_id: str) -> Resident:
        row = self._by_id(cols.RESIDENT_SELECT, "id", resident_id, f"resident {resident_id!r}")
        return self._rows.resident(row)

    def list_contacts(self, resident_id: str) -> list[Contact]:
        rows = self._query(
            f"{cols.CONTACT_SELECT} WHERE resident_id = {self._mark} ORDER BY id", (resident_id,)
        )
        return [self._rows.contact(r) for r in rows]

    def get_device(self, device_id: str) -> Device:
        row = self._by_id(cols.DEVICE_SELECT, "id", device_id, f"device {device_id!r}")
        return self._rows.device(row)

    def get_device_secret(self, device_id: str) -> str | None:
        row = self._by_id("SELECT secret_hash FROM devices", "id", device_id,
                          f"device {device_id!r}")  # fmt: skip
        secret: str | None = row[0]
        return secret

    def list_unprovisioned(self) -> list[Unprovisioned]:
        rows = self._query(f"{cols.UNPROVISIONED_SELECT} ORDER BY last_seen DESC, device_id")
        return [self._rows.unprovisioned(r) for r in rows]

    # ingest and telemetry

    def device_states(self) -> list[DeviceState]:
        rows = self._query(f"{cols.STATE_SELECT} ORDER BY d.id")
        return [self._rows.device_state(r) for r in rows]

    def get_device_state(self, device_id: str) -> DeviceState:
        row = self._by_id(cols.STATE_SELECT, "d.id", device_id, f"device {device_id!r}")
        return self._rows.device_state(row)

    def count_dead_letters(self) -> dict[str, int]:
        return dict(self._query("SELECT code, count(*) FROM dead_letters GROUP BY code"))

    def status_history(self, device_id: str, limit: int = 100) -> list[StatusChange]:
        m = self._mark
        rows = self._query(
            f"{cols.STATUS_SELECT} WHERE device_id = {m} ORDER BY at DESC, id DESC LIMIT {m}",
            (device_id, limit),
        )
        return [self._rows.status(r) for r in rows]

    def received_between(
        self, after: float, until: float, limit: int = 100_000
    ) -> tuple[list[TelemetryRow], list[EventRow]]:
        m = self._mark
        where = f" WHERE received_at > {m} AND received_at <= {m} ORDER BY received_at LIMIT {m}"
        span = (self._at(after), self._at(until), limit)
        tel = self._query(f"{cols.TELEMETRY_SELECT}{where}", span)
        ev = self._query(f"{cols.EVENT_SELECT}{where}", span)
        return [self._rows.telemetry(r) for r in tel], [self._rows.event(r) for r in ev]

    def status_between(self, after: float, until: float, limit: int = 100_000
                       ) -> list[StatusChange]:  # fmt: skip
        m = self._mark
        rows = self._query(
            f"{cols.STATUS_SELECT} WHERE at > {m} AND at <= {m} ORDER BY at, id LIMIT {m}",
            (self._at(after), self._at(until), limit),
        )
        return [self._rows.status(r) for r in rows]

    # findings

    def unhandled_findings(self, since: float, limit: int = 10_000) -> list[FindingRow]:
        m = self._mark
        rows = self._query(
            f"{cols.FINDING_SELECT} WHERE handled_at IS NULL AND detected_at >= {m}"
            f" ORDER BY detected_at, id LIMIT {m}",
            (self._at(since), limit),
        )
        return [self._rows.finding(r) for r in rows]

    def get_progress(self, name: str) -> float | None:
        rows = self._query(f"SELECT value FROM progress WHERE name = {self._mark}", (name,))
        return float(rows[0][0]) if rows else None

    # alerts

    def get_alert(self, alert_id: str) -> AlertRow:
        return self._rows.alert(
            self._by_id(cols.ALERT_SELECT, "id", alert_id, f"alert {alert_id!r}")
        )

    def get_notification(self, key: str) -> NotificationRow:
        row = self._by_id(cols.NOTIFICATION_SELECT, "key", key, f"outbox row {key!r}")
        return self._rows.notification(row)

    def notifications_by_key(self, keys: Sequence[str]) -> list[NotificationRow]:
        return self._notifications_in("key", keys)

    def notifications_of_alerts(self, alert_ids: Sequence[str]) -> list[NotificationRow]:
        return self._notifications_in("alert_id", alert_ids)

    def _notifications_in(self, column: str, values: Sequence[str]) -> list[NotificationRow]:
        where, params = self._in(column, values)
        rows = self._query(f"{cols.NOTIFICATION_SELECT} WHERE {where} ORDER BY key", params)
        return [self._rows.notification(r) for r in rows]

    def unresolved_alerts(self) -> list[AlertRow]:
        rows = self._query(f"{cols.ALERT_SELECT} WHERE state <> 'resolved' ORDER BY opened_at, id")
        return [self._rows.alert(r) for r in rows]

    def escalation_policies(self) -> dict[str, dict[str, Any]]:
        rows = self._query("SELECT station_id, policy FROM escalation_policies ORDER BY 1")
        return {r[0]: self._rows.json(r[1]) for r in rows}

    # users

    def get_user(self, user_id: str) -> UserRow:
        rows = self._user_rows(f" WHERE id = {self._mark}", (user_id,))
        if not rows:
            raise NotFound(f"user {user_id!r}")
        return rows[0]

    def get_session(self, id_hash: str) -> SessionRow:
        return self._rows.session(self._by_id(cols.SESSION_SELECT, "id_hash", id_hash, "session"))

    def get_api_token(self, token_hash: str) -> ApiTokenRow:
        return self._rows.api_token(
            self._by_id(cols.TOKEN_SELECT, "token_hash", token_hash, "API token")
        )

    def list_api_tokens(self, user_id: str) -> list[ApiTokenRow]:
        rows = self._query(
            f"{cols.TOKEN_SELECT} WHERE user_id = {self._mark} ORDER BY created_at, id",
            (user_id,),
        )
        return [self._rows.api_token(r) for r in rows]
