"""The registry on PostgreSQL: cities, districts, stations, residents, contacts, devices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from psycopg.types.json import Jsonb

from hub.store import rows as cols
from hub.store.base import Device, District, Resident, Station
from hub.store.postgres.codec import ROWS, filters, to_dt
from hub.store.postgres.connection import PostgresBase


class PostgresRegistry(PostgresBase):
    """Cities, districts, stations, residents, contacts and devices."""

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

    def list_residents(self, station_id: str | None = None) -> list[Resident]:
        where, params = filters(station_id=station_id)
        return [
            ROWS.resident(r)
            for r in self._query(f"{cols.RESIDENT_SELECT}{where} ORDER BY id", params)
        ]

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

    def list_devices(
        self, *, resident_id: str | None = None, gateway_id: str | None = None
    ) -> list[Device]:
        where, params = filters(resident_id=resident_id, gateway_id=gateway_id)
        return [
            ROWS.device(r) for r in self._query(f"{cols.DEVICE_SELECT}{where} ORDER BY id", params)
        ]
