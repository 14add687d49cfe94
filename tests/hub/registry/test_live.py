"""The live registry: one snapshot, reloaded from the store, with the changes told to every
listener once; the first load is a baseline, not a flood of "added"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.registry.live import Change, LiveRegistry, RegistrySnapshot, diff
from hub.store.base import City, Device, District, Resident, Station, Store


def _world(store: Store) -> None:
    store.add_city(City("sh", "上海市"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "pd", "一站"))
    store.add_station(Station("st-2", "pd", "二站"))
    store.add_resident(Resident("r-1", "st-1", "甲"))


def test_diff_names_each_change_once_stations_first() -> None:
    old = RegistrySnapshot.of([Station("st-1", "pd", "一站")], [Resident("r-1", "st-1", "甲")],
                              [Device("w-1", "wearable", resident_id="r-1")])  # fmt: skip
    new = RegistrySnapshot.of(
        [Station("st-1", "pd", "一站"), Station("st-2", "pd", "二站")],
        [Resident("r-1", "st-2", "甲")],
        [],
    )
    got = [(c.kind, c.id, c.action) for c in diff(old, new)]
    assert got == [("station", "st-2", "added"), ("resident", "r-1", "changed"),
                   ("device", "w-1", "removed")]  # fmt: skip
    assert diff(new, new) == []


async def test_refresh_tells_listeners_what_changed(sqlite_store: Store) -> None:
    _world(sqlite_store)
    registry = LiveRegistry(sqlite_store)
    calls: list[tuple[RegistrySnapshot, list[Change]]] = []
    registry.add_listener(lambda snap, changes: calls.append((snap, changes)))

    assert await registry.refresh() == []  # the first load is the baseline
    assert [c for _, c in calls] == [[]]
    assert registry.snapshot.station_of("r-1") == "st-1"

    # written by another process (the CLI): seen at the next refresh
    sqlite_store.add_resident(Resident("r-2", "st-2", "乙"))
    sqlite_store.add_device(Device("w-2", "wearable", resident_id="r-2"))
    changes = await registry.refresh()
    assert [(c.kind, c.id, c.action) for c in changes] == [
        ("resident", "r-2", "added"), ("device", "w-2", "added")]  # fmt: skip
    snap, told = calls[-1]
    assert told == changes and snap is registry.snapshot
    assert snap.station_of("r-2") == "st-2"
    assert [d.id for d in snap.devices_of("r-2")] == ["w-2"]

    assert await registry.refresh() == []  # nothing moved: nobody is disturbed
    assert len(calls) == 2


@pytest.mark.allow_error_logs
async def test_a_failing_listener_does_not_stop_the_others(
    sqlite_store: Store, caplog: Any
) -> None:
    _world(sqlite_store)
    registry = LiveRegistry(sqlite_store)
    await registry.refresh()
    seen: list[int] = []

    def broken(_snap: RegistrySnapshot, _changes: list[Change]) -> None:
        raise RuntimeError("boom")

    registry.add_listener(broken)
    registry.add_listener(lambda snap, _c: seen.append(snap.version))
    sqlite_store.add_resident(Resident("r-3", "st-1", "丙"))
    with caplog.at_level("ERROR"):
        await registry.refresh()
    assert seen == [registry.snapshot.version]
    assert "a registry listener failed" in caplog.text


async def test_periodic_refresh_picks_up_outside_writes(sqlite_store: Store) -> None:
    _world(sqlite_store)
    registry = LiveRegistry(sqlite_store, refresh_s=0.01)
    added = asyncio.Event()
    registry.add_listener(lambda _s, ch: added.set() if ch else None)
    await registry.start()
    try:
        sqlite_store.add_resident(Resident("r-4", "st-1", "丁"))
        await asyncio.wait_for(added.wait(), timeout=10)
    finally:
        await registry.stop()
    assert "r-4" in registry.snapshot.residents
