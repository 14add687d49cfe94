"""The registry on SQLite: cities, districts, stations, residents, contacts, devices."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from hub.errors import (
    NotFound,
)
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
from hub.store.sqlite.connection import ROWS, SqliteBase


class SqliteRegistry(SqliteBase):
    """Cities, districts, stations, residents, contacts and devices."""

    def add_city(self, city: City) -> None:
        with self._tx(f"add city {city.id!r}") as db:
            db.execute("INSERT INTO cities (id, name) VALUES (?, ?)", (city.id, city.name))

    def add_district(self, district: District) -> None:
        d = district
        with self._tx(f"add district {d.id!r}") as db:
            db.execute(
                "INSERT INTO districts (id, city_id, name, kind) VALUES (?, ?, ?, ?)",
                (d.id, d.city_id, d.name, d.kind),
            )

    def add_station(self, station: Station) -> None:
        s = station
        with self._tx(f"add station {s.id!r}") as db:
            db.execute(
                "INSERT INTO stations (id, district_id, name, kind, address, lat, lon, timezone) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (s.id, s.district_id, s.name, s.kind, s.address, s.lat, s.lon, s.timezone),
            )

    def list_cities(self) -> list[City]:
        return [ROWS.city(r) for r in self._query("SELECT id, name FROM cities ORDER BY id")]

    def list_districts(self, city_id: str | None = None) -> list[District]:
        rows = self._query(
            "SELECT id, city_id, name, kind FROM districts WHERE ?1 IS NULL OR city_id = ?1 "
            "ORDER BY id",
            (city_id,),
        )
        return [ROWS.district(r) for r in rows]

    def list_stations(self, district_id: str | None = None) -> list[Station]:
        rows = self._query(
            f"{cols.STATION_SELECT} WHERE ?1 IS NULL OR district_id = ?1 ORDER BY id",
            (district_id,),
        )
        return [ROWS.station(r) for r in rows]

    def get_station(self, station_id: str) -> Station:
        row = self._one(
            f"{cols.STATION_SELECT} WHERE id = ?", (station_id,), f"station {station_id!r}"
        )
        return ROWS.station(row)

    def update_station(self, station: Station) -> None:
        s = station
        with self._tx(f"update station {s.id!r}") as db:
            cur = db.execute(
                "UPDATE stations SET name = ?, kind = ?, address = ?, lat = ?, lon = ?,"
                " timezone = ? WHERE id = ?",
                (s.name, s.kind, s.address, s.lat, s.lon, s.timezone, s.id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"station {s.id!r}")

    @staticmethod
    def _resident_params(r: Resident) -> tuple[Any, ...]:
        return (
            r.station_id, r.name, r.address, r.lat, r.lon, r.birth_year, r.status,
            json.dumps(r.clinical), r.id,
        )  # fmt: skip

    def add_resident(self, resident: Resident) -> None:
        with self._tx(f"add resident {resident.id!r}") as db:
            db.execute(
                "INSERT INTO residents (station_id, name, address, lat, lon, birth_year, status,"
                " clinical, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self._resident_params(resident),
            )

    def update_resident(self, resident: Resident) -> None:
        with self._tx(f"update resident {resident.id!r}") as db:
            cur = db.execute(
                "UPDATE residents SET station_id = ?, name = ?, address = ?, lat = ?, lon = ?,"
                " birth_year = ?, status = ?, clinical = ? WHERE id = ?",
                self._resident_params(resident),
            )
            if cur.rowcount == 0:
                raise NotFound(f"resident {resident.id!r}")

    def get_resident(self, resident_id: str) -> Resident:
        row = self._one(
            f"{cols.RESIDENT_SELECT} WHERE id = ?", (resident_id,), f"resident {resident_id!r}"
        )
        return ROWS.resident(row)

    def list_residents(self, station_id: str | None = None) -> list[Resident]:
        rows = self._query(
            f"{cols.RESIDENT_SELECT} WHERE ?1 IS NULL OR station_id = ?1 ORDER BY id", (station_id,)
        )
        return [ROWS.resident(r) for r in rows]

    def add_contact(self, contact: Contact) -> None:
        c = contact
        with self._tx(f"add contact {c.id!r}") as db:
            db.execute(
                "INSERT INTO contacts (id, resident_id, name, relation, phone, channels, prefs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (c.id, c.resident_id, c.name, c.relation, c.phone,
                 json.dumps(list(c.channels)), json.dumps(c.prefs)),
            )  # fmt: skip

    def list_contacts(self, resident_id: str) -> list[Contact]:
        rows = self._query(
            f"{cols.CONTACT_SELECT} WHERE resident_id = ? ORDER BY id",
            (resident_id,),
        )
        return [ROWS.contact(r) for r in rows]

    def add_device(self, device: Device, secret_hash: str | None = None) -> None:
        d = device
        created = d.created_at if d.created_at > 0 else time.time()
        with self._tx(f"add device {d.id!r}") as db:
            db.execute(
                "INSERT INTO devices (id, kind, vendor, model, firmware, capabilities,"
                " resident_id, gateway_id, interval_s, enabled, secret_hash, created_at,"
                " worn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (d.id, d.kind, d.vendor, d.model, d.firmware, json.dumps(list(d.capabilities)),
                 d.resident_id, d.gateway_id, d.interval_s, d.enabled, secret_hash, created,
                 d.worn_at),
            )  # fmt: skip
            db.execute("DELETE FROM unprovisioned WHERE device_id = ?", (d.id,))

    def add_devices(self, items: Sequence[tuple[Device, str | None]]) -> None:
        if not items:
            return
        now = time.time()
        with self._tx(f"add {len(items)} devices") as db:
            db.executemany(
                "INSERT INTO devices (id, kind, vendor, model, firmware, capabilities,"
                " resident_id, gateway_id, interval_s, enabled, secret_hash, created_at, worn_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(d.id, d.kind, d.vendor, d.model, d.firmware, json.dumps(list(d.capabilities)),
                  d.resident_id, d.gateway_id, d.interval_s, d.enabled, secret_hash,
                  d.created_at if d.created_at > 0 else now, d.worn_at)
                 for d, secret_hash in items],
            )  # fmt: skip
            db.executemany(
                "DELETE FROM unprovisioned WHERE device_id = ?", [(d.id,) for d, _ in items]
            )

    def device_kinds(self, device_ids: Iterable[str]) -> dict[str, str]:
        ids = list(device_ids)
        out: dict[str, str] = {}
        for lo in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            part = ids[lo : lo + 500]
            marks = ", ".join("?" * len(part))
            rows = self._query(f"SELECT id, kind FROM devices WHERE id IN ({marks})", part)
            out.update({r[0]: r[1] for r in rows})
        return out

    def update_device(self, device: Device) -> None:
        d = device
        with self._tx(f"update device {d.id!r}") as db:
            cur = db.execute(
                "UPDATE devices SET kind = ?, vendor = ?, model = ?, firmware = ?,"
                " capabilities = ?, resident_id = ?, gateway_id = ?, interval_s = ?, enabled = ?,"
                " worn_at = ? WHERE id = ?",
                (d.kind, d.vendor, d.model, d.firmware, json.dumps(list(d.capabilities)),
                 d.resident_id, d.gateway_id, d.interval_s, d.enabled, d.worn_at, d.id),
            )  # fmt: skip
            if cur.rowcount == 0:
                raise NotFound(f"device {d.id!r}")

    def get_device(self, device_id: str) -> Device:
        row = self._one(f"{cols.DEVICE_SELECT} WHERE id = ?", (device_id,), f"device {device_id!r}")
        return ROWS.device(row)

    def list_devices(
        self, *, resident_id: str | None = None, gateway_id: str | None = None
    ) -> list[Device]:
        rows = self._query(
            f"{cols.DEVICE_SELECT} WHERE (?1 IS NULL OR resident_id = ?1)"
            " AND (?2 IS NULL OR gateway_id = ?2) ORDER BY id",
            (resident_id, gateway_id),
        )
        return [ROWS.device(r) for r in rows]

    def set_device_secret(self, device_id: str, secret_hash: str) -> None:
        with self._tx(f"set secret of {device_id!r}") as db:
            cur = db.execute(
                "UPDATE devices SET secret_hash = ? WHERE id = ?", (secret_hash, device_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"device {device_id!r}")

    def get_device_secret(self, device_id: str) -> str | None:
        row = self._one(
            "SELECT secret_hash FROM devices WHERE id = ?", (device_id,), f"device {device_id!r}"
        )
        secret: str | None = row[0]
        return secret

    def list_unprovisioned(self) -> list[Unprovisioned]:
        rows = self._query(f"{cols.UNPROVISIONED_SELECT} ORDER BY last_seen DESC, device_id")
        return [ROWS.unprovisioned(r) for r in rows]
