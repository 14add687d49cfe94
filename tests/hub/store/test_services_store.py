"""The services tables of the Store contract, on both back-ends: catalogue, care workers
(position never moving back in time), orders (one per alert, compare-and-set status changes
with their audit trail) and the order list's filters."""

from __future__ import annotations

import dataclasses

import pytest

from hub.errors import Conflict, NotFound
from hub.store.base import (
    CareWorker,
    City,
    District,
    Order,
    OrderEvent,
    Resident,
    Service,
    Station,
    Store,
    UserRow,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def seed(store: Store) -> None:
    store.add_city(City("c-1", "Shanghai"))
    store.add_district(District("d-1", "c-1", "Pudong"))
    for sid in ("st-1", "st-2"):
        store.add_station(Station(sid, "d-1", sid, timezone="Asia/Shanghai"))
    store.add_resident(Resident("r-1", "st-1", "Wang Fang", "1 Lane", 31.2, 121.5))
    store.add_resident(Resident("r-2", "st-2", "Zhao Lei", "2 Lane", 31.3, 121.6))
    store.add_user(UserRow("u-w", "Chen", "station_staff", "$argon2id$x", T0, scope_id="st-1"))


def service(sid: str = "sv-meal", **kw: object) -> Service:
    base = Service(sid, "st-1", "meal_delivery", "午餐送餐", 30, 1500, 1000, ("food",),
                   created_at=T0)  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def worker(wid: str = "w-1", **kw: object) -> CareWorker:
    base = CareWorker(wid, "st-1", "陈静", "u-w", "138", ("food", "bathing"),
                      {"0": [["08:00", "17:00"]]}, created_at=T0)  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def order(oid: str = "o-1", **kw: object) -> Order:
    base = Order(oid, "st-1", "r-1", "sv-meal", "meal_delivery", T0 + 3600, 30, "open",
                 1500, 1000, "user:u-w", T0, T0)  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_catalogue_round_trip(store: Store) -> None:
    seed(store)
    store.add_service(service())
    store.add_service(service("sv-bath", kind="bathing", name="助浴", duration_min=60,
                              price_cents=8000, subsidy_cents=0, skills=("bathing",)))  # fmt: skip
    store.add_service(service("sv-other", station_id="st-2"))
    assert store.get_service("sv-meal") == service()
    with pytest.raises(Conflict):
        store.add_service(service())
    with pytest.raises(Conflict):  # unknown station
        store.add_service(service("sv-x", station_id="st-9"))
    store.update_service(service(price_cents=1800, active=False, skills=()))
    got = store.get_service("sv-meal")
    assert (got.price_cents, got.active, got.skills) == (1800, False, ())
    assert [s.id for s in store.list_services("st-1")] == ["sv-bath", "sv-meal"]
    assert len(store.list_services()) == 3
    with pytest.raises(NotFound):
        store.get_service("nope")
    with pytest.raises(NotFound):
        store.update_service(service("nope"))


def test_workers_and_positions(store: Store) -> None:
    seed(store)
    store.add_worker(worker())
    assert store.get_worker("w-1") == worker()
    with pytest.raises(Conflict):  # one user acts as one worker
        store.add_worker(worker("w-2"))
    store.add_worker(worker("w-2", user_id=None, station_id="st-2"))
    assert [w.id for w in store.list_workers("st-1")] == ["w-1"]
    assert [w.id for w in store.list_workers(user_id="u-w")] == ["w-1"]
    assert store.set_worker_position("w-1", 31.21, 121.51, T0 + 10)
    assert not store.set_worker_position("w-1", 30.0, 120.0, T0 + 5)  # older: kept out
    got = store.get_worker("w-1")
    assert (got.lat, got.lon, got.position_at) == (31.21, 121.51, T0 + 10)
    store.update_worker(worker(name="陈静静", skills=("checkup",), hours={}))
    got = store.get_worker("w-1")
    assert (got.name, got.skills, got.hours, got.lat) == ("陈静静", ("checkup",), {}, 31.21)
    with pytest.raises(NotFound):
        store.set_worker_position("w-9", 1.0, 1.0, T0)


def test_orders_transitions_and_audit(store: Store) -> None:
    seed(store)
    store.add_service(service())
    store.add_worker(worker())
    store.add_order(order(), OrderEvent("o-1", T0, "user:u-w", "open"))
    store.add_order(order("o-2", alert_id="al-1", scheduled_at=T0),
                    OrderEvent("o-2", T0, "user:u-w", "open"))  # fmt: skip
    with pytest.raises(Conflict):  # one order per alert
        store.add_order(order("o-3", alert_id="al-1"), OrderEvent("o-3", T0, "x", "open"))
    assert store.order_for_alert("al-1") == order("o-2", alert_id="al-1", scheduled_at=T0)
    assert store.order_for_alert("al-2") is None
    moved = order(status="assigned", worker_id="w-1", updated_at=T0 + 5)
    store.change_order(
        moved,
        "open",
        OrderEvent("o-1", T0 + 5, "user:u-w", "assigned", "open", "w-1", detail={"travel_s": 120}),
    )
    assert store.get_order("o-1") == moved
    with pytest.raises(Conflict):  # stale: it is no longer open
        store.change_order(order(status="cancelled"), "open",
                           OrderEvent("o-1", T0 + 6, "x", "cancelled", "open"))  # fmt: skip
    arrived = dataclasses.replace(moved, status="accepted", updated_at=T0 + 7)
    store.change_order(arrived, "assigned",
                       OrderEvent("o-1", T0 + 7, "user:u-w", "accepted", "assigned", "w-1",
                                  31.2, 121.5))  # fmt: skip
    events = store.order_events("o-1")
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "open"), ("open", "assigned"), ("assigned", "accepted")]  # fmt: skip
    assert events[1].detail == {"travel_s": 120}
    assert (events[2].lat, events[2].lon, events[2].at) == (31.2, 121.5, T0 + 7)
    with pytest.raises(NotFound):
        store.change_order(order("o-9"), "open", OrderEvent("o-9", T0, "x", "assigned"))
    assert [o.id for o in store.list_orders()] == ["o-2", "o-1"]
    assert [o.id for o in store.list_orders(worker_id="w-1")] == ["o-1"]
    assert [o.id for o in store.list_orders(statuses=["open"])] == ["o-2"]
    assert [o.id for o in store.list_orders(since=T0 + 1, until=T0 + 3601)] == ["o-1"]
    assert store.list_orders(station_ids=["st-2"]) == []
    assert store.list_orders(station_ids=[]) == []
    assert [o.id for o in store.list_orders(newest_first=True)] == ["o-1", "o-2"]
    assert [o.id for o in store.list_orders(resident_id="r-1", limit=1)] == ["o-2"]
    assert store.list_orders(resident_id="r-9") == []
