"""A small registry for tests: one station, its residents and their wearables."""

from __future__ import annotations

from hub.store.base import City, Device, District, Resident, Station, Store

RESIDENT_NAMES = ("王秀英", "李建国", "张桂兰", "刘志强")


def add_station(store: Store) -> str:
    """Add the city ``sh``, its district ``sh-pd`` and the station ``st-1``; the station's id."""
    store.add_city(City("sh", "上海市"))
    store.add_district(District("sh-pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "sh-pd", "花木街道养老服务站"))
    return "st-1"


def add_wearers(store: Store, count: int, *, created_at: float = 0.0) -> None:
    """Add the station and ``count`` residents ``r-1``, ``r-2``..., each wearing a wearable
    of the same number (``w-1``, ``w-2``...)."""
    station_id = add_station(store)
    for n, name in enumerate(RESIDENT_NAMES[:count], start=1):
        store.add_resident(Resident(f"r-{n}", station_id, name))
        store.add_device(Device(f"w-{n}", "wearable", resident_id=f"r-{n}", created_at=created_at))
