"""A dashboard over a real (not started) hub on SQLite: two stations of one district, one
resident and wearable each, an SOS alert each, and a user of every role per station.

The hub is not connected to a broker: commands it would publish are logged and dropped,
which these tests do not need (tests/browser and the serve test cover the MQTT path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carehub.serve import Hub
from dashboard.app import create_app
from dashboard.auth import hash_password
from dashboard.settings import DashboardSettings
from hub.settings import HubSettings
from hub.store.base import (
    CareWorker,
    City,
    Contact,
    Device,
    District,
    FindingRow,
    Order,
    OrderEvent,
    Resident,
    Service,
    Station,
    Store,
    UserRow,
)

if TYPE_CHECKING:
    from tests.dashboard.served import Served

T0 = 1_767_225_600.0
PASSWORD = "correct horse battery"
# hashed once: argon2 is slow on purpose, and every test builds a dozen users
_HASH = hash_password(PASSWORD)

STATION_ROLES = ("station_supervisor", "station_staff", "family")


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class World:
    hub: Hub
    store: Store
    clock: Clock
    client: TestClient
    app: FastAPI
    alerts: dict[str, str]  # station -> SOS alert id
    tokens: dict[str, str] = field(default_factory=dict)  # user id -> bearer token

    def as_user(self, user_id: str) -> dict[str, str]:
        if user_id not in self.tokens:
            ctx = self.app.state.ctx
            _, self.tokens[user_id] = ctx.auth.new_token(user_id, "test")
        return {"Authorization": f"Bearer {self.tokens[user_id]}"}

    def login(self, user_id: str) -> str:
        """Log in with a session cookie; returns the CSRF token."""
        r = self.client.post("/api/auth/login", json={"user": user_id, "password": PASSWORD})
        assert r.status_code == 200, r.text
        token: str = r.json()["csrf_token"]
        return token


def user_id(role: str, station: str | None) -> str:
    return f"{role}.{station}" if station else role


def populate(store: Store) -> None:
    store.add_city(City("sh", "上海市"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_district(District("xh", "sh", "徐汇区"))
    for s, name in (("a", "花木"), ("b", "金杨")):
        store.add_station(Station(f"st-{s}", "pd", f"{name}养老服务站"))
        store.add_resident(Resident(f"r-{s}", f"st-{s}", f"居民{s}", address=f"{name}路 1 号",
                                    lat=31.2, lon=121.5))  # fmt: skip
        store.add_contact(Contact(f"c-{s}", f"r-{s}", "家属", "daughter", "13800000000"))
        vendor = "acme" if s == "a" else "other"
        store.add_device(Device(f"w-{s}", "wearable", vendor=vendor, resident_id=f"r-{s}"))
        for role in STATION_ROLES:
            uid = user_id(role, s)
            scope = None if role == "family" else f"st-{s}"
            links = (f"r-{s}",) if role == "family" else ()
            store.add_user(UserRow(uid, uid, role, _HASH, T0, scope, links))  # type: ignore[arg-type]
        add_services(store, s)
    store.add_station(Station("st-x", "xh", "徐汇站"))
    store.add_user(UserRow("city_admin", "city", "city_admin", _HASH, T0, "sh"))
    store.add_user(UserRow("district_admin.pd", "pd", "district_admin", _HASH, T0, "pd"))
    store.add_user(UserRow("district_admin.xh", "xh", "district_admin", _HASH, T0, "xh"))
    store.add_user(UserRow("vendor.acme", "acme", "vendor", _HASH, T0, "acme"))


EVERY_DAY = {str(d): [["00:00", "24:00"]] for d in range(7)}


def add_services(store: Store, s: str) -> None:
    """Station ``s``'s catalogue (a meal delivery, an emergency visit), its care worker
    ``cw-s`` (acted as by ``station_staff.s``, on duty all week, at the resident's home) and
    an order ``ord-s`` assigned to that worker."""
    st = f"st-{s}"
    store.add_service(Service(f"sv-{s}", st, "meal_delivery", "送餐", 30, 1500, 1000,
                              ("food",), created_at=T0))  # fmt: skip
    store.add_service(Service(f"sv-e{s}", st, "emergency_visit", "紧急上门", 45, 0, 0,
                              created_at=T0))  # fmt: skip
    store.add_worker(CareWorker(f"cw-{s}", st, f"护理员{s}", f"station_staff.{s}", None,
                                ("food",), EVERY_DAY, 31.2, 121.5, T0, created_at=T0))  # fmt: skip
    o = Order(f"ord-{s}", st, f"r-{s}", f"sv-{s}", "meal_delivery", T0 + 3600, 30, "assigned",
              1500, 1000, "system", T0, T0, f"cw-{s}")  # fmt: skip
    store.add_order(o, OrderEvent(o.id, T0, "system", "assigned", None, o.worker_id))


def raise_sos(hub: Hub, device: str, at: float) -> str:
    f = FindingRow(None, device, "sos", "high", at, at, {}, {"en": "SOS"}, id=None)
    hub.alert_engine.on_finding(f, at)
    [alert] = [a for a in hub.alert_engine.open_alerts() if a.device_id == device]
    return alert.id


@pytest.fixture
def world(sqlite_store: Store) -> Iterator[World]:
    populate(sqlite_store)
    clock = Clock()
    hub = Hub(sqlite_store, "mqtt://127.0.0.1:1?protocol=3", settings=HubSettings(),
              clock=clock)  # fmt: skip
    hub.alert_engine.recover(clock())
    alerts = {s: raise_sos(hub, f"w-{s}", T0) for s in ("a", "b")}
    settings = DashboardSettings(ws_heartbeat_s=3600, cookie_secure=False)
    app = create_app(hub, settings, clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield World(hub, sqlite_store, clock, client, app, alerts)


@pytest.fixture
def serve(world: World) -> Iterator[Callable[..., Served]]:
    """``serve(recheck_s, **settings)``: the world's dashboard under uvicorn, on a free port."""
    from tests.dashboard.served import serving

    with serving(world) as start:
        yield start


def error_code(r: Any) -> str:
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    code: str = body["error"]["code"]
    return code
