"""Community services in the demo: the station's catalogue (meals, bathing, check-ups,
cleaning, companionship, emergency visits), four care workers around the station — one of
them acted as by the demo's staff login, so its phone page (``/static/worker.html``) has
orders — residents' addresses placed on the map, and two meal deliveries of today.

Made once per store: everything is keyed by fixed ids and skipped when present.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.errors import Conflict
from hub.store.base import CareWorker, Order, OrderEvent, Service, ServiceKind, Store
from hub.timezones import DEFAULT_TIMEZONE

CENTRE = (31.2304, 121.4737)
"""Where the demo station stands when it has no position of its own."""

SERVICES: tuple[tuple[ServiceKind, str, int, int, int, tuple[str, ...]], ...] = (
    # kind, name, minutes, price and subsidy in fen, skills
    ("meal_delivery", "助餐送餐", 30, 1_500, 1_000, ("food",)),
    ("bathing", "助浴", 60, 8_000, 5_000, ("bathing",)),
    ("checkup", "上门健康检查", 45, 3_000, 3_000, ("nursing",)),
    ("cleaning", "居家保洁", 90, 6_000, 3_000, ("housework",)),
    ("companionship", "陪伴聊天", 60, 4_000, 2_000, ()),
    ("emergency_visit", "紧急上门", 45, 0, 0, ()),
)
WEEK = {str(d): [["08:00", "20:00"]] for d in range(5)} | {"5": [["09:00", "17:00"]],
                                                            "6": [["09:00", "17:00"]]}  # fmt: skip
ALWAYS = {str(d): [["00:00", "24:00"]] for d in range(7)}
WORKERS: tuple[tuple[str, tuple[str, ...], dict[str, list[list[str]]], int, int], ...] = (
    # name, skills, hours, metres north and east of the station
    ("陈静", ("food", "nursing", "bathing"), ALWAYS, 150, -120),
    ("刘强", ("food", "housework"), WEEK, -600, 500),
    ("张丽", ("bathing", "nursing"), WEEK, 900, 300),
    ("赵刚", ("food", "housework", "bathing"), WEEK, -300, -900),
)


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (lat + north_m / 111_320,
            lon + east_m / (111_320 * math.cos(math.radians(lat))))  # fmt: skip


def seed_services(store: Store, station_id: str, staff_user: str, now: float) -> int:
    """Create what is missing; returns how many records were added."""
    added = 0
    station = store.get_station(station_id)
    if station.lat is None or station.lon is None:
        station = replace(station, lat=CENTRE[0], lon=CENTRE[1])
        store.update_station(station)
    lat0, lon0 = station.lat or CENTRE[0], station.lon or CENTRE[1]
    residents = store.list_residents(station_id)
    for i, r in enumerate(residents):
        if r.lat is None or r.lon is None:  # homes on a spiral within about 1.5 km
            angle, dist = i * 2.4, 200 + 1_300 * math.sqrt((i + 1) / (len(residents) + 1))
            lat, lon = _offset(lat0, lon0, dist * math.cos(angle), dist * math.sin(angle))
            store.update_resident(replace(r, lat=round(lat, 6), lon=round(lon, 6)))
    for kind, name, minutes, price, subsidy, skills in SERVICES:
        with contextlib.suppress(Conflict):
            store.add_service(Service(f"{station_id}-{kind}", station_id, kind, name, minutes,
                                      price, subsidy, skills, created_at=now))  # fmt: skip
            added += 1
    for i, (name, skills, hours, north, east) in enumerate(WORKERS):
        lat, lon = _offset(lat0, lon0, north, east)
        user = staff_user if i == 0 else None
        with contextlib.suppress(Conflict):
            store.add_worker(CareWorker(f"{station_id}-cw{i + 1}", station_id, name, user, None,
                                        skills, hours, lat, lon, now, created_at=now))  # fmt: skip
            added += 1
    zone = ZoneInfo(station.timezone or DEFAULT_TIMEZONE)
    today = datetime.fromtimestamp(now, zone).replace(minute=0, second=0, microsecond=0)
    meal = store.get_service(f"{station_id}-meal_delivery")
    for k, (hour, minute) in enumerate(((11, 30), (17, 30))):
        if k >= len(residents):
            break
        at = today.replace(hour=hour, minute=minute).timestamp()
        oid = f"{station_id}-demo-meal-{today:%Y%m%d}-{k + 1}"
        o = Order(oid, station_id, residents[k].id, meal.id, "meal_delivery", at, 30, "assigned",
                  meal.price_cents, meal.subsidy_cents, "system", now, now,
                  f"{station_id}-cw1")  # fmt: skip
        with contextlib.suppress(Conflict):
            store.add_order(o, OrderEvent(oid, now, "system", "assigned", None, o.worker_id))
            added += 1
    return added
