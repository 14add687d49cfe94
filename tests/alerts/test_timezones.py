"""Quiet hours and message times follow each resident's station's time zone; a station
without one follows the hub's default."""

from __future__ import annotations

from alerts.engine import AlertEngine
from alerts.escalation import default_policy
from hub.store.base import Contact, Device, Resident, Station
from hub.store.sqlite import SqliteStore

from .conftest import ROLES, T0, finding, make_engine

NIGHT = T0 + 14 * 3600  # 2026-01-01 15:00 UTC: 23:00 in Shanghai, 16:00 in Berlin
QUIET = {"quiet_hours": "22:00-07:00", "min_priority": "low"}


def add_berlin(store: SqliteStore) -> None:
    """A second station, in Berlin, with a resident whose son also keeps quiet hours."""
    store.add_station(Station("st-be", "pd", "Mitte", timezone="Europe/Berlin"))
    store.set_escalation_policy("st-be", default_policy("st-be", ROLES).model_dump(), T0)
    store.add_resident(Resident("r-be", "st-be", "Anna Schmidt", address="Torstr. 1"))
    store.add_device(Device("w-be", "wearable", resident_id="r-be", created_at=T0))
    store.add_contact(Contact("c-be", "r-be", "Jonas", channels=("json://127.0.0.1:9/jonas",),
                              prefs={**QUIET, "language": "en"}))  # fmt: skip
    store.add_contact(Contact("c-sh", "r-2", "李女士", channels=("json://127.0.0.1:9/li",),
                              prefs=QUIET))  # fmt: skip


def family_told(engine: AlertEngine, store: SqliteStore, resident: str) -> list[str]:
    [alert] = engine.list_alerts(resident_id=resident)
    return [n.target for n in store.alert_notifications(alert_id=alert.id)]


def test_quiet_hours_in_each_station_zone(store: SqliteStore) -> None:
    add_berlin(store)
    engine = make_engine(store)
    engine.on_finding(finding("vitals", "medium", device="w-2", resident="r-2", at=NIGHT), NIGHT)
    engine.on_finding(finding("vitals", "medium", device="w-be", resident="r-be", at=NIGHT), NIGHT)
    engine.tick(NIGHT + 600)  # medium: supervisor and family after 10 min
    assert "family" not in family_told(engine, store, "r-2")  # 23:10 in Shanghai: quiet
    assert "family" in family_told(engine, store, "r-be")  # 16:10 in Berlin: told


def test_a_station_without_a_zone_follows_the_default(store: SqliteStore) -> None:
    """st-1 names no zone: with a Berlin default its resident's family is told at 16:10."""
    add_berlin(store)
    assert store.get_station("st-1").timezone is None
    engine = make_engine(store, default_timezone="Europe/Berlin")
    engine.on_finding(finding("vitals", "medium", device="w-2", resident="r-2", at=NIGHT), NIGHT)
    engine.tick(NIGHT + 600)
    assert "family" in family_told(engine, store, "r-2")


def test_message_times_in_the_station_zone(store: SqliteStore) -> None:
    add_berlin(store)
    engine = make_engine(store)
    engine.on_finding(finding("sos", device="w-2", resident="r-2", at=NIGHT), NIGHT)
    engine.on_finding(finding("sos", device="w-be", resident="r-be", at=NIGHT), NIGHT)
    bodies = {}
    for resident in ("r-2", "r-be"):
        [alert] = engine.list_alerts(resident_id=resident)
        [row] = store.alert_notifications(alert_id=alert.id)
        bodies[resident] = engine.message_for(row).body
    assert "时间: 2026-01-01 23:00" in bodies["r-2"]
    assert "时间: 2026-01-01 16:00" in bodies["r-be"]
