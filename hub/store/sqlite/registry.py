"""The registry on SQLite: cities, districts, stations, residents, contacts, devices."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence

from hub.store import rows as cols
from hub.store.base import Device, District, Resident, Station
from hub.store.sqlite.connection import ROWS, SqliteBase


class SqliteRegistry(SqliteBase):
    """Cities, districts, stations, residents, contacts and devices."""

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

    def list_residents(self, station_id: str | None = None) -> list[Resident]:
        rows = self._query(
            f"{cols.RESIDENT_SELECT} WHERE ?1 IS NULL OR station_id = ?1 ORDER BY id", (station_id,)
        )
        return [ROWS.resident(r) for r in rows]

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

    def list_devices(
        self, *, resident_id: str | None = None, gateway_id: str | None = None
    ) -> list[Device]:
        rows = self._query(
            f"{cols.DEVICE_SELECT} WHERE (?1 IS NULL OR resident_id = ?1)"
            " AND (?2 IS NULL OR gateway_id = ?2) ORDER BY id",
            (resident_id, gateway_id),
        )
        return [ROWS.device(r) for r in rows]
