"""Shared pieces of the alert tests: a small registry, a policy with fake channels, an
engine over a real store, and a recording sender."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alerts.directory import StoreDirectory
from alerts.engine import AlertEngine
from alerts.escalation import EscalationPolicy, default_policy
from alerts.notify import DeliveryError, OutMessage
from hub.store.base import City, Contact, Device, District, FindingRow, Resident, Station, Store
from hub.store.postgres import PostgresStore
from hub.store.sqlite import SqliteStore

T0 = 1_767_229_200.0  # 2026-01-01 09:00 in Shanghai (01:00 UTC)

ROLES = {
    "station": ("json://127.0.0.1:9/station",),
    "supervisor": ("json://127.0.0.1:9/supervisor",),
    "district": ("json://127.0.0.1:9/district",),
}


def policy() -> EscalationPolicy:
    return default_policy("st-1", ROLES)


def seed(store: Store) -> Store:
    store.add_city(City("sh", "上海"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "pd", "潍坊社区养老服务站"))
    store.add_resident(Resident("r-1", "st-1", "王阿姨", address="潍坊路 1 号 302"))
    store.add_resident(Resident("r-2", "st-1", "李伯伯"))
    store.add_contact(Contact("c-1", "r-1", "王小明", "son", channels=("json://127.0.0.1:9/son",),
                              prefs={"min_priority": "medium", "language": "en"}))  # fmt: skip
    store.add_device(Device("gw-1", "gateway", resident_id="r-1", created_at=T0))
    store.add_device(Device("w-1", "wearable", resident_id="r-1", created_at=T0))
    store.add_device(Device("door-1", "door", resident_id="r-1", gateway_id="gw-1", created_at=T0))
    store.add_device(Device("w-2", "wearable", resident_id="r-2", created_at=T0))
    store.set_escalation_policy("st-1", policy().model_dump(), T0)
    return store


def finding(kind: str, priority: str = "high", device: str = "w-1", resident: str | None = "r-1",
            at: float = T0, **evidence: float) -> FindingRow:  # fmt: skip
    return FindingRow(resident, device, kind, priority, at, at, dict(evidence),
                      {"zh-CN": f"{kind} 中文", "en": f"{kind} reason"})  # fmt: skip


def counter_ids() -> Callable[[str], str]:
    numbers = itertools.count(1)
    return lambda prefix: f"{prefix}-{next(numbers)}"


def make_engine(store: Store, **kw: object) -> AlertEngine:
    engine = AlertEngine(
        store,
        StoreDirectory(store, ttl_s=0),
        new_id=counter_ids(),
        link_base="https://hub.example/alerts",
        **kw,
    )  # type: ignore[arg-type]
    engine.recover(T0)
    return engine


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """Overrides the two-back-end fixture: the engine tests run on SQLite (the store
    contract for the alert tables runs on both in tests/hub/store)."""
    s = SqliteStore(tmp_path / "alerts.db")
    s.migrate()
    seed(s)
    yield s
    s.close()


@pytest.fixture
def engine(store: SqliteStore) -> AlertEngine:
    return make_engine(store)


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest) -> Store:
    """A seeded store of each back-end (``store`` is SQLite here)."""
    name = "pg_store" if request.param == "postgres" else "sqlite_store"
    backend: SqliteStore | PostgresStore = request.getfixturevalue(name)
    return seed(backend)


class RecordingSender:
    """Records every message; channels listed in ``failing`` fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutMessage]] = []
        self.failing: set[str] = set()

    async def send(self, channel: str, message: OutMessage) -> None:
        if channel in self.failing:
            raise DeliveryError("HTTP 503")
        self.sent.append((channel, message))
