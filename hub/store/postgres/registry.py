"""The registry on PostgreSQL: cities, districts, stations, residents, contacts, devices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from hub.store import rows as cols
from hub.store.base import (
    City,
    Contact,
    Device,
    District,
    Resident,
    Station,
    Unprovisioned,
)
from hub.store.postgres.codec import ROWS, filters, to_dt
from hub.store.postgres.connection import PostgresBase


class PostgresRegistry(PostgresBase):
    """Cities, districts, stations, residents, contacts and devices."""

    def add_city(self, city: City) -> None:
        self._write(
            f"add city {city.id!r}", "INSERT INTO cities (id, name) VALUES (%s, %s)",
            (city.id, city.name),
        )  # fmt: skip

    def add_district(self, district: District) -> None:
        d = district
        self._write(
            f"add district {d.id!r}",
            "INSERT INTO districts (id, city_id, name, kind) VALUES (%s, %s, %s, %s)",
            (d.id, d.city_id, d.name, d.kind),
        )

    def add_station(self, station: Station) -> None:
        s = station
        self._write(
            f"add station {s.id!r}",
            "INSERT INTO stations (id, district_id, name, kind, address, lat, lon, timezone)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (s.id, s.district_id, s.name, s.kind, s.address, s.lat, s.lon, s.timezone),
        )

    def list_cities(self) -> list[City]:
        return [ROWS.city(r) for r in self._query("SELECT id, name FROM cities ORDER BY id")]

    def list_districts(self, city_id: str | None = None) -> list[District]:
        where, params = filters(city_id=city_id)
        rows = self._query(
            f"SELECT id, city_id, name, kind FROM districts{where} ORDER BY id", params
        )
        return [ROWS.district(r) for r in rows]

    def list_stations(self, district_id: str | None = None) -> list[Station]:
        where, params = filters(district_id=district_id)
        return [
            ROWS.station(r)
            for r in self._query(f"{cols.STATION_SELECT}{where} ORDER BY id", params)
        ]

    def get_station(self, station_id: str) -> Station:
        row = self._one(
            f"{cols.STATION_SELECT} WHERE id = %s", (station_id,), f"station {station_id!r}"
        )
        return ROWS.station(row)

    def update_station(self, station: Station) -> None:
        s = station
        self._write(
            f"update station {s.id!r}",
            "UPDATE stations SET name = %s, kind = %s, address = %s, lat = %s, lon = %s,"
            " timezone = %s WHERE id = %s",
            (s.name, s.kind, s.address, s.lat, s.lon, s.timezone, s.id),
            must_match=f"station {s.id!r}",
        )

    @staticmethod
    def _resident_params(r: Resident) -> tuple[Any, ...]:
        return (
            r.station_id, r.name, r.address, r.lat, r.lon, r.birth_year, r.status,
            Jsonb(r.clinical), r.id,
        )  # fmt: skip

    def add_resident(self, resident: Resident) -> None:
        self._write(
            f"add resident {resident.id!r}",
            "INSERT INTO residents (station_id, name, address, lat, lon, birth_year, status,"
            " clinical, id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            self._resident_params(resident),
        )

    def update_resident(self, resident: Resident) -> None:
        self._write(
            f"update resident {resident.id!r}",
            "UPDATE residents SET station_id = %s, name = %s, address = %s, lat = %s, lon = %s,"
            " birth_year = %s, status = %s, clinical = %s WHERE id = %s",
            self._resident_params(resident),
            must_match=f"resident {resident.id!r}",
        )

    def get_resident(self, resident_id: str) -> Resident:
        row = self._one(
            f"{cols.RESIDENT_SELECT} WHERE id = %s", (resident_id,), f"resident {resident_id!r}"
        )
        return ROWS.resident(row)

    def list_residents(self, station_id: str | None = None) -> list[Resident]:
        where, params = filters(station_id=station_id)
        return [
            ROWS.resident(r)
            for r in self._query(f"{cols.RESIDENT_SELECT}{where} ORDER BY id", params)
        ]

    def add_contact(self, contact: Contact) -> None:
        c = contact
        self._write(
            f"add contact {c.id!r}",
            "INSERT INTO contacts (id, resident_id, name, relation, phone, channels, prefs)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (c.id, c.resident_id, c.name, c.relation, c.phone, Jsonb(list(c.channels)),
             Jsonb(c.prefs)),
        )  # fmt: skip

    def list_contacts(self, resident_id: str) -> list[Contact]:
        rows = self._query(
            f"{cols.CONTACT_SELECT} WHERE resident_id = %s ORDER BY id",
            (resident_id,),
        )
        return [ROWS.contact(r) for r in rows]

    def add_device(self, device: Device, secret_hash: str | None = None) -> None:
        d = device
        created = to_dt(d.created_at) if d.created_at > 0 else datetime.now(UTC)
        with self._conn(f"add device {d.id!r}") as conn:
            conn.execute(
                "INSERT INTO devices (id, kind, vendor, model, firmware, capabilities,"
                " resident_id, gateway_id, interval_s, enabled, secret_hash, created_at,"
                " worn_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (d.id, d.kind, d.vendor, d.model, d.firmware, Jsonb(list(d.capabilities)),
                 d.resident_id, d.gateway_id, d.interval_s, d.enabled, secret_hash, created,
                 d.worn_at),
            )  # fmt: skip
            conn.execute("DELETE FROM unprovisioned WHERE device_id = %s", (d.id,))

    def add_devices(self, items: Sequence[tuple[Device, str | None]]) -> None:
        if not items:
            return
        now = datetime.now(UTC)
        columns = (*cols.DEVICE_COLS, "secret_hash")
        with self._conn(f"add {len(items)} devices") as conn, conn.cursor() as cur:
            # COPY: one round trip for the whole file (an INSERT per row took most of a
            # 100,000-device import); a duplicate id fails the statement, and with it all.
            with cur.copy(f"COPY devices ({', '.join(columns)}) FROM STDIN") as copy:
                for d, secret_hash in items:
                    created = to_dt(d.created_at) if d.created_at > 0 else now
                    copy.write_row((d.id, d.kind, d.vendor, d.model, d.firmware,
                                    Jsonb(list(d.capabilities)), d.resident_id, d.gateway_id,
                                    d.interval_s, d.enabled, created, d.worn_at,
                                    secret_hash))  # fmt: skip
            cur.execute(
                "DELETE FROM unprovisioned WHERE device_id = ANY(%s)", ([d.id for d, _ in items],)
            )

    def device_kinds(self, device_ids: Iterable[str]) -> dict[str, str]:
        ids = list(device_ids)
        if not ids:
            return {}
        rows = self._query("SELECT id, kind FROM devices WHERE id = ANY(%s)", (ids,))
        return {r[0]: r[1] for r in rows}

    def update_device(self, device: Device) -> None:
        d = device
        self._write(
            f"update device {d.id!r}",
            "UPDATE devices SET kind = %s, vendor = %s, model = %s, firmware = %s,"
            " capabilities = %s, resident_id = %s, gateway_id = %s, interval_s = %s,"
            " enabled = %s, worn_at = %s WHERE id = %s",
            (d.kind, d.vendor, d.model, d.firmware, Jsonb(list(d.capabilities)), d.resident_id,
             d.gateway_id, d.interval_s, d.enabled, d.worn_at, d.id),
            must_match=f"device {d.id!r}",
        )  # fmt: skip

    def get_device(self, device_id: str) -> Device:
        row = self._one(
            f"{cols.DEVICE_SELECT} WHERE id = %s", (device_id,), f"device {device_id!r}"
        )
        return ROWS.device(row)

    def list_devices(
        self, *, resident_id: str | None = None, gateway_id: str | None = None
    ) -> list[Device]:
        where, params = filters(resident_id=resident_id, gateway_id=gateway_id)
        return [
            ROWS.device(r) for r in self._query(f"{cols.DEVICE_SELECT}{where} ORDER BY id", params)
        ]

    def set_device_secret(self, device_id: str, secret_hash: str) -> None:
        self._write(
            f"set secret of {device_id!r}", "UPDATE devices SET secret_hash = %s WHERE id = %s",
            (secret_hash, device_id), must_match=f"device {device_id!r}",
        )  # fmt: skip

    def get_device_secret(self, device_id: str) -> str | None:
        row = self._one(
            "SELECT secret_hash FROM devices WHERE id = %s", (device_id,), f"device {device_id!r}"
        )
        secret: str | None = row[0]
        return secret

    def list_unprovisioned(self) -> list[Unprovisioned]:
        rows = self._query(f"{cols.UNPROVISIONED_SELECT} ORDER BY last_seen DESC, device_id")
        return [ROWS.unprovisioned(r) for r in rows]
