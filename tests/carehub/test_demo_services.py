"""The demo's services: a catalogue of every kind, care workers around the station (one
acted as by the staff login), residents placed on the map, today's meal deliveries; made
once, and the dispatcher can place an order with them."""

from __future__ import annotations

from carehub.demo_services import seed_services
from dashboard.dispatching import propose
from hub.dispatch.geo import haversine_m
from hub.store.base import SERVICE_KINDS, City, District, Order, Resident, Station, Store, UserRow


def test_demo_services_are_made_once_and_dispatchable(sqlite_store: Store) -> None:
    store = sqlite_store
    store.add_city(City("c", "演示市"))
    store.add_district(District("d", "c", "演示区"))
    store.add_station(Station("st", "d", "演示站", timezone="Asia/Shanghai"))
    for i in range(5):
        store.add_resident(Resident(f"r-{i}", "st", f"居民{i}"))
    store.add_user(UserRow("demo", "演示值班员", "station_staff", "x", 0.0, "st"))
    now = 1_767_553_200.0  # Monday 2026-01-05 03:00 in Shanghai: only cw1 works nights
    assert seed_services(store, "st", "demo", now) == 6 + 4 + 2
    assert seed_services(store, "st", "demo", now) == 0
    assert sorted(s.kind for s in store.list_services("st")) == sorted(SERVICE_KINDS)
    assert [w.id for w in store.list_workers(user_id="demo")] == ["st-cw1"]
    homes = store.list_residents("st")
    assert all(r.lat is not None and r.lon is not None for r in homes)
    assert len({(r.lat, r.lon) for r in homes}) == len(homes)
    assert len(store.list_orders(worker_id="st-cw1")) == 2
    visit = store.get_service("st-emergency_visit")
    order = Order("o-1", "st", "r-4", visit.id, "emergency_visit", now, 45, "open", 0, 0, "t",
                  now, now)  # fmt: skip
    proposal = propose(store, order, now=now, emergency_late_s=1_800)
    assert proposal is not None
    assert proposal.worker_id == "st-cw1"
    day = now + 8 * 3_600  # 11:00: the nearest of the four on duty is chosen
    order = Order("o-2", "st", "r-4", visit.id, "emergency_visit", day, 45, "open", 0, 0, "t",
                  day, day)  # fmt: skip
    proposal = propose(store, order, now=day, emergency_late_s=1_800)
    assert proposal is not None
    r = store.get_resident("r-4")
    nearest = min(store.list_workers("st"),
                  key=lambda w: float(haversine_m(w.lat, w.lon, r.lat, r.lon)))  # fmt: skip
    assert proposal.worker_id == nearest.id
