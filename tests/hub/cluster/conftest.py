"""The registry the cluster tests run over: one station whose residents wear one wearable
each (``r-0`` wears ``w-0``, ...), in a throwaway PostgreSQL database.

A module sets how many residents with a ``residents`` fixture of its own (8 by default).
"""

from __future__ import annotations

import pytest

from hub.registry.provisioning import provision_device
from hub.store.base import City, Device, District, Resident, Station
from hub.store.postgres import PostgresStore


@pytest.fixture
def residents() -> int:
    return 8


@pytest.fixture
def registered(pg_store: PostgresStore, residents: int) -> PostgresStore:
    store = pg_store
    store.add_city(City("sh", "上海市"))
    store.add_district(District("sh-pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "sh-pd", "花木街道养老服务站"))
    for i in range(residents):
        store.add_resident(Resident(f"r-{i}", "st-1", f"居民{i}"))
        provision_device(store, Device(f"w-{i}", "wearable", resident_id=f"r-{i}"))
    return store
