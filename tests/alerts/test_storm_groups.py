"""A station's connectivity storm seen by two cluster workers, each holding half of its
residents' partitions: one alert counting every device, open until both halves are back."""

from __future__ import annotations

import pytest

from alerts.directory import StoreDirectory
from alerts.engine import AlertEngine
from alerts.storm_groups import StormGroups
from hub.detect.connectivity import ConnectivityStorms
from hub.detect.findings import Finding
from hub.store.base import City, Device, District, Resident, Station
from hub.store.postgres import PostgresStore

pytestmark = [pytest.mark.postgres]

T0 = 1_750_000_000.0


def will(device_id: str, at: float) -> Finding:
    reason = {"zh-CN": "设备掉线（遗嘱消息）", "en": "Device went offline (Last Will)"}
    return Finding(device_id, "device_offline", "medium", at, {"source": "will"}, reason)


def storm_findings(
    devices: list[str], *, back_at: float | None = None, t0: float = T0
) -> list[Finding]:
    """What one worker's detector reports for its share of the station's devices."""
    det = ConnectivityStorms()
    for d in devices:
        det.offline(will(d, t0), site="", station="st-1", now=t0)
    found = det.due(t0 + 6)
    if back_at is not None:
        for d in devices:
            det.online(d, back_at)
        found = det.due(back_at + 1)
    return found


def test_one_alert_for_a_storm_two_workers_see_halves_of(pg_store: PostgresStore) -> None:
    store = pg_store
    store.add_city(City("sh", "上海市"))
    store.add_district(District("sh-pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "sh-pd", "花木街道养老服务站"))
    devices = [f"w-{i}" for i in range(12)]
    for i, d in enumerate(devices):
        store.add_resident(Resident(f"r-{i}", "st-1", f"居民{i}"))
        store.add_device(Device(d, "wearable", resident_id=f"r-{i}"))
    mine, theirs = devices[:5], devices[5:]
    workers = {
        name: StormGroups(AlertEngine(store, StoreDirectory(store)), store, name)
        for name in ("wa", "wb")
    }
    [storm_a] = storm_findings(mine)
    [storm_b] = storm_findings(theirs)
    assert storm_a.device_id == storm_b.device_id == "station:st-1"

    workers["wa"].feed([storm_a], T0 + 6)
    workers["wb"].feed([storm_b], T0 + 6.5)  # its engine never saw wa's alert
    [alert] = store.list_alerts(kind="connectivity_loss")
    assert alert.state == "open"
    assert alert.data["evidence"]["device_count"] == len(devices)
    assert alert.data["evidence"]["workers"] == 2

    [cleared_a] = [f for f in storm_findings(mine, back_at=T0 + 60) if f.kind.endswith("cleared")]
    workers["wa"].feed([cleared_a], T0 + 61)
    assert store.get_alert(alert.id).state == "open"  # wb's devices are still offline

    [cleared_b] = [f for f in storm_findings(theirs, back_at=T0 + 90) if f.kind.endswith("cleared")]
    workers["wb"].feed([cleared_b], T0 + 91)
    assert store.get_alert(alert.id).state == "resolved"
    assert len(store.list_alerts(kind="connectivity_loss")) == 1

    # a new storm later is a new alert, and wa's engine does not take the old one for open
    [again] = storm_findings(mine, t0=T0 + 200)
    workers["wa"].feed([again], T0 + 206)
    alerts = store.list_alerts(kind="connectivity_loss")
    assert len(alerts) == 2
    assert sorted(a.state for a in alerts) == ["open", "resolved"]
