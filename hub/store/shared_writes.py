"""The writes both back-ends run alike: statements whose SQL is the same on SQLite and
PostgreSQL but for the parameter mark, with times and JSON passed as each driver takes
them (``_at``, ``_opt_at``, ``_json``): the registry, findings marked handled, silences,
policies, users; an alert engine step is :mod:`hub.store.shared_alerts`.

Batch writes (telemetry, findings), bulk provisioning and the queries with optional
filters differ between the databases and stay in each back-end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, closing
from typing import Any

from hub.errors import NotFound
from hub.store.protocols.alerts import SilenceRow
from hub.store.protocols.registry import City, Contact, Device, District, Resident, Station
from hub.store.protocols.users import ApiTokenRow, SessionRow, UserRow
from hub.store.shared import SharedReads

DEVICE_WRITE_COLS = (
    "id, kind, vendor, model, firmware, capabilities, resident_id, gateway_id, interval_s,"
    " enabled, secret_hash, created_at, worn_at"
)


class SharedWrites(SharedReads):
    """Writes whose SQL both back-ends share; see the module docstring."""

    def _transaction(self, what: str) -> AbstractContextManager[Any]:
        """A transaction on a connection whose ``execute`` returns a cursor."""
        raise NotImplementedError

    def _json(self, value: Any, *, ensure_ascii: bool = True) -> Any:
        """A JSON column's parameter (``ensure_ascii`` matters where JSON is text)."""
        raise NotImplementedError

    def _opt_at(self, ts: float | None) -> Any:
        return None if ts is None else self._at(ts)

    def _write(self, what: str, sql: str, params: Sequence[Any], *, must_match: str = "") -> None:
        """One statement in a transaction; NotFound(must_match) when it changes no row."""
        with self._transaction(what) as conn:
            if conn.execute(sql, params).rowcount == 0 and must_match:
                raise NotFound(must_match)

    def _insert(self, what: str, table: str, columns: str, values: Sequence[Any]) -> None:
        marks = ", ".join([self._mark] * len(values))
        self._write(what, f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)

    # registry

    def add_city(self, city: City) -> None:
        self._insert(f"add city {city.id!r}", "cities", "id, name", (city.id, city.name))

    def add_district(self, district: District) -> None:
        d = district
        self._insert(f"add district {d.id!r}", "districts", "id, city_id, name, kind",
                     (d.id, d.city_id, d.name, d.kind))  # fmt: skip

    def add_station(self, station: Station) -> None:
        s = station
        self._insert(
            f"add station {s.id!r}", "stations",
            "id, district_id, name, kind, address, lat, lon, timezone",
            (s.id, s.district_id, s.name, s.kind, s.address, s.lat, s.lon, s.timezone),
        )  # fmt: skip

    def update_station(self, station: Station) -> None:
        s, m = station, self._mark
        self._write(
            f"update station {s.id!r}",
            f"UPDATE stations SET name = {m}, kind = {m}, address = {m}, lat = {m}, lon = {m},"
            f" timezone = {m} WHERE id = {m}",
            (s.name, s.kind, s.address, s.lat, s.lon, s.timezone, s.id),
            must_match=f"station {s.id!r}",
        )

    def _resident_params(self, r: Resident) -> tuple[Any, ...]:
        return (r.station_id, r.name, r.address, r.lat, r.lon, r.birth_year, r.status,
                self._json(r.clinical), r.id)  # fmt: skip

    def add_resident(self, resident: Resident) -> None:
        self._insert(
            f"add resident {resident.id!r}", "residents",
            "station_id, name, address, lat, lon, birth_year, status, clinical, id",
            self._resident_params(resident),
        )  # fmt: skip

    def update_resident(self, resident: Resident) -> None:
        m = self._mark
        self._write(
            f"update resident {resident.id!r}",
            f"UPDATE residents SET station_id = {m}, name = {m}, address = {m}, lat = {m},"
            f" lon = {m}, birth_year = {m}, status = {m}, clinical = {m} WHERE id = {m}",
            self._resident_params(resident),
            must_match=f"resident {resident.id!r}",
        )

    def add_contact(self, contact: Contact) -> None:
        c = contact
        self._insert(
            f"add contact {c.id!r}", "contacts",
            "id, resident_id, name, relation, phone, channels, prefs",
            (c.id, c.resident_id, c.name, c.relation, c.phone, self._json(list(c.channels)),
             self._json(c.prefs)),
        )  # fmt: skip

    def add_device(self, device: Device, secret_hash: str | None = None) -> None:
        d = device
        created = self._at(d.created_at if d.created_at > 0 else time.time())
        marks = ", ".join([self._mark] * 13)
        with self._transaction(f"add device {d.id!r}") as conn:
            conn.execute(
                f"INSERT INTO devices ({DEVICE_WRITE_COLS}) VALUES ({marks})",
                (d.id, d.kind, d.vendor, d.model, d.firmware, self._json(list(d.capabilities)),
                 d.resident_id, d.gateway_id, d.interval_s, d.enabled, secret_hash, created,
                 d.worn_at),
            )  # fmt: skip
            conn.execute(f"DELETE FROM unprovisioned WHERE device_id = {self._mark}", (d.id,))

    def update_device(self, device: Device) -> None:
        d, m = device, self._mark
        self._write(
            f"update device {d.id!r}",
            f"UPDATE devices SET kind = {m}, vendor = {m}, model = {m}, firmware = {m},"
            f" capabilities = {m}, resident_id = {m}, gateway_id = {m}, interval_s = {m},"
            f" enabled = {m}, worn_at = {m} WHERE id = {m}",
            (d.kind, d.vendor, d.model, d.firmware, self._json(list(d.capabilities)),
             d.resident_id, d.gateway_id, d.interval_s, d.enabled, d.worn_at, d.id),
            must_match=f"device {d.id!r}",
        )  # fmt: skip

    def set_device_secret(self, device_id: str, secret_hash: str) -> None:
        m = self._mark
        self._write(
            f"set secret of {device_id!r}", f"UPDATE devices SET secret_hash = {m} WHERE id = {m}",
            (secret_hash, device_id), must_match=f"device {device_id!r}",
        )  # fmt: skip

    # findings

    def set_progress(self, name: str, value: float) -> None:
        m = self._mark
        self._write(
            "set progress",
            f"INSERT INTO progress (name, value) VALUES ({m}, {m})"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def mark_findings_handled(self, ids: Sequence[int], at: float) -> None:
        if ids:
            with self._transaction("mark findings handled") as conn, closing(conn.cursor()) as cur:
                self._handled(cur, ids, at)

    def _handled(self, cur: Any, ids: Sequence[int], at: float) -> None:
        """Set ``handled_at`` of the findings ``ids`` not handled yet, in the caller's
        transaction."""
        cur.executemany(
            f"UPDATE findings SET handled_at = {self._mark} WHERE id = {self._mark}"
            " AND handled_at IS NULL",
            [(self._at(at), i) for i in ids],
        )

    # alerts

    def add_silence(self, silence: SilenceRow) -> None:
        s = silence
        self._insert(
            f"add silence {s.id!r}", "alert_silences",
            "id, start_at, end_at, author, reason, resident_id, device_id, kind, station_id,"
            " technical_only, created_at, cancelled_at, cancelled_by",
            (s.id, self._at(s.start), self._at(s.end), s.author, s.reason, s.resident_id,
             s.device_id, s.kind, s.station_id, s.technical_only, self._at(s.created_at),
             self._opt_at(s.cancelled_at), s.cancelled_by),
        )  # fmt: skip

    def cancel_silence(self, silence_id: str, at: float, by: str) -> None:
        m = self._mark
        self._write(
            f"cancel silence {silence_id!r}",
            f"UPDATE alert_silences SET cancelled_at = COALESCE(cancelled_at, {m}),"
            f" cancelled_by = COALESCE(cancelled_by, {m}) WHERE id = {m}",
            (self._at(at), by, silence_id),
            must_match=f"silence {silence_id!r}",
        )

    def set_escalation_policy(self, station_id: str, policy: dict[str, Any], at: float) -> None:
        m = self._mark
        self._write(
            f"set escalation policy of {station_id!r}",
            f"INSERT INTO escalation_policies (station_id, policy, updated_at)"
            f" VALUES ({m}, {m}, {m}) ON CONFLICT (station_id) DO UPDATE SET"
            " policy = excluded.policy, updated_at = excluded.updated_at",
            (station_id, self._json(policy, ensure_ascii=False), self._at(at)),
        )

    # users

    def add_user(self, user: UserRow) -> None:
        self._write_user(user, insert=True)

    def update_user(self, user: UserRow) -> None:
        self._write_user(user, insert=False)

    def _write_user(self, u: UserRow, insert: bool) -> None:
        """The user row and its resident links, in one transaction."""
        m = self._mark
        params = (u.name, u.role, u.password_hash, self._at(u.created_at), u.scope_id,
                  u.language, u.timezone, u.disabled, self._json(u.prefs, ensure_ascii=False),
                  u.id)  # fmt: skip
        with self._transaction(f"{'add' if insert else 'update'} user {u.id!r}") as conn:
            if insert:
                marks = ", ".join([m] * len(params))
                conn.execute(
                    "INSERT INTO users (name, role, password_hash, created_at, scope_id,"
                    f" language, timezone, disabled, prefs, id) VALUES ({marks})",
                    params,
                )
            else:
                cur = conn.execute(
                    f"UPDATE users SET name = {m}, role = {m}, password_hash = {m},"
                    f" created_at = {m}, scope_id = {m}, language = {m}, timezone = {m},"
                    f" disabled = {m}, prefs = {m} WHERE id = {m}",
                    params,
                )
                if cur.rowcount == 0:
                    raise NotFound(f"user {u.id!r}")
                conn.execute(f"DELETE FROM user_residents WHERE user_id = {m}", (u.id,))
            for resident_id in dict.fromkeys(u.resident_ids):
                conn.execute(
                    f"INSERT INTO user_residents (user_id, resident_id) VALUES ({m}, {m})",
                    (u.id, resident_id),
                )

    def add_session(self, session: SessionRow) -> None:
        s = session
        self._insert(
            "add session", "user_sessions", "id_hash, user_id, csrf_token, created_at, expires_at",
            (s.id_hash, s.user_id, s.csrf_token, self._at(s.created_at), self._at(s.expires_at)),
        )  # fmt: skip

    def add_api_token(self, token: ApiTokenRow) -> None:
        t = token
        self._insert(
            f"add API token {t.id!r}", "api_tokens",
            "id, user_id, token_hash, name, created_at, expires_at, revoked_at",
            (t.id, t.user_id, t.token_hash, t.name, self._at(t.created_at),
             self._opt_at(t.expires_at), self._opt_at(t.revoked_at)),
        )  # fmt: skip

    def revoke_api_token(self, token_id: str, at: float) -> None:
        m = self._mark
        self._write(
            f"revoke API token {token_id!r}",
            f"UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, {m}) WHERE id = {m}",
            (self._at(at), token_id),
            must_match=f"API token {token_id!r}",
        )
