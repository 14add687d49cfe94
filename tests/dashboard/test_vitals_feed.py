"""A dashboard-only node's vitals, read from what workers committed (PostgreSQL): the newest
reading of each device once per read, never the same row twice, a row committed late still
found, a store error only skipping a read."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from dashboard.settings import DashboardSettings
from dashboard.vitals_feed import StoreVitals
from dashboard.ws import Broadcaster
from hub.errors import StoreError
from hub.registry.live import LiveRegistry
from hub.store.base import (
    City,
    Device,
    District,
    IngestBatch,
    Resident,
    Station,
    TelemetryRow,
)
from hub.store.postgres import PostgresStore

pytestmark = [pytest.mark.postgres]
T0 = 1_767_225_600.0


class Flaky:
    """The store, failing its next ``fail`` reads of the latest vitals."""

    def __init__(self, store: PostgresStore) -> None:
        self.store, self.fail = store, 0

    def latest_received(self, since: float) -> list[TelemetryRow]:
        if self.fail:
            self.fail -= 1
            raise StoreError("connection lost")
        return self.store.latest_received(since)


async def feed(store: PostgresStore) -> tuple[StoreVitals, Broadcaster, Flaky]:
    store.add_city(City("sh", "Shanghai"))
    store.add_district(District("pd", "sh", "Pudong"))
    for st, r, w in (("st-1", "r-1", "w-1"), ("st-2", "r-2", "w-2")):
        store.add_station(Station(st, "pd", st))
        store.add_resident(Resident(r, st, r))
        store.add_device(Device(w, "wearable", resident_id=r))
    registry = LiveRegistry(store, refresh_s=60)
    await registry.ensure_loaded()
    flaky = Flaky(store)
    ctx: Any = SimpleNamespace(
        store=flaky, settings=DashboardSettings(), clock=lambda: T0,
        hub=SimpleNamespace(registry=registry),
    )  # fmt: skip
    broadcaster = Broadcaster(ctx)
    return StoreVitals(ctx, broadcaster, every_s=3600, overlap_s=30), broadcaster, flaky


def tel(device: str, seq: int, received_at: float, **values: float) -> TelemetryRow:
    return TelemetryRow(device, seq, received_at - 0.5, received_at, values)


def frames(b: Broadcaster) -> list[dict[str, Any]]:
    return [json.loads(ev.text) for ev in b.history if ev.type == "vitals"]


async def test_each_read_publishes_each_devices_newest_reading_once(
    pg_store: PostgresStore,
) -> None:
    vitals, b, _ = await feed(pg_store)
    await vitals.start()  # marks T0: what came before is on the snapshot's tiles
    try:
        pg_store.write_batch(IngestBatch(telemetry=[
            tel("w-1", 1, T0 - 60, hr=60),
            tel("w-1", 2, T0 + 1, hr=70, spo2=97, rssi=-60), tel("w-1", 3, T0 + 2, hr=72),
            tel("w-2", 1, T0 + 1, temp=36.6, battery=80),
        ]))  # fmt: skip
        assert await vitals.read() == 2
        by_device = {f["device_id"]: f for f in frames(b)}
        assert by_device["w-1"] == {"type": "vitals", "id": by_device["w-1"]["id"],
                                    "device_id": "w-1", "resident_id": "r-1",
                                    "values": {"hr": 72}, "at": T0 + 2}  # fmt: skip
        assert by_device["w-2"]["values"] == {"temp": 36.6, "battery": 80}
        scoped = [(e.station_id, e.resident_id) for e in b.history]
        assert sorted(scoped) == [("st-1", "r-1"), ("st-2", "r-2")]
        # the overlap reads w-1's row 3 again: not published again
        assert await vitals.read() == 0
        # a row of w-2 committed late, older than w-1's newest: still found
        pg_store.write_batch(IngestBatch(telemetry=[tel("w-2", 2, T0 + 1.5, temp=36.9)]))
        assert await vitals.read() == 1
        assert frames(b)[-1]["values"] == {"temp": 36.9}
        # a late row older than the reading a tile shows does not take it back
        pg_store.write_batch(IngestBatch(telemetry=[tel("w-1", 0, T0 + 0.5, hr=50)]))
        assert await vitals.read() == 0
        assert len(frames(b)) == 3
    finally:
        await vitals.stop()


async def test_a_store_error_skips_one_read_only(
    pg_store: PostgresStore, caplog: pytest.LogCaptureFixture
) -> None:
    vitals, b, flaky = await feed(pg_store)
    vitals.mark = T0
    pg_store.write_batch(IngestBatch(telemetry=[tel("w-1", 1, T0 + 1, hr=70)]))
    flaky.fail = 1
    assert await vitals.read() == 0
    assert vitals.failures == 1
    assert "reading the latest vitals failed" in caplog.text
    assert await vitals.read() == 1
    assert [f["values"] for f in frames(b)] == [{"hr": 70}]
