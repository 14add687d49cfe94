"""Routing of accepted messages to the detectors, and the resident each finding concerns."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.contract.models import EVENT_ADAPTER, Status, Telemetry
from hub.detect.router import Detection
from hub.ingest.core import Accepted
from hub.store.base import Device, Resident, Station

T0 = 1_767_225_600.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def detection(clock: Clock) -> Detection:
    d = Detection(clock=clock)
    d.set_registry(
        [
            Device("w-1", "wearable", resident_id="r-1", interval_s=60),
            Device("w-2", "wearable", resident_id="r-2", interval_s=60),
            Device("gw-1", "gateway", resident_id="r-1"),
            Device("door-1", "door", gateway_id="gw-1", resident_id="r-1"),
            Device("gas-1", "gas", gateway_id="gw-1"),
            Device("bp-1", "bp_monitor", resident_id="r-2"),
        ],
        [
            Resident("r-1", "st-1", "王秀英", clinical={"spo2_scale": 2}),
            Resident("r-2", "st-1", "李桂兰"),
        ],
    )
    return d


def acc(device: Device, msg_type: str, message: Any, at: float) -> Accepted:
    return Accepted(device, msg_type, message, at, device.gateway_id)


def tel(detection: Detection, device_id: str, at: float, **values: Any) -> Accepted:
    m = Telemetry.model_validate({"ts": at, "seq": int(at), **values})
    return acc(detection.devices[device_id], "telemetry", m, at)


def event(detection: Detection, device_id: str, at: float, **fields: Any) -> Accepted:
    m = EVENT_ADAPTER.validate_python({"ts": at, "seq": int(at), **fields})
    return acc(detection.devices[device_id], "event", m, at)


def test_sos_and_hazard_events_become_high_findings_of_the_right_resident(
    detection: Detection,
) -> None:
    rows = detection.observe(
        [
            event(detection, "w-1", T0, type="sos"),
            event(detection, "gas-1", T0, type="gas", alarm=True, room="kitchen"),
        ]
    )
    found = {r.kind: r for r in rows}
    assert found["sos"].resident_id == "r-1"
    assert found["sos"].priority == "high"
    # the gas sensor has no resident of its own: it is the resident's through the gateway
    assert (found["gas"].resident_id, found["gas"].priority) == ("r-1", "high")
    assert all(r.reason["zh-CN"] and r.reason["en"] for r in rows)


def test_persistent_hypoxia_on_a_wearable_is_a_vitals_finding(
    detection: Detection, clock: Clock
) -> None:
    rows = []
    for i in range(12):  # SpO2 84 % for 12 minutes, good signal, on scale 1 (r-2)
        clock.now = T0 + 60 * i
        rows += detection.observe([tel(detection, "w-2", clock.now, spo2=84, hr=88)])
    vitals = [r for r in rows if r.kind == "vitals"]
    assert len(vitals) == 1
    assert vitals[0].resident_id == "r-2"
    assert vitals[0].priority in ("medium", "high")


def test_spo2_scale_2_from_the_residents_clinical_settings_is_applied(
    detection: Detection, clock: Clock
) -> None:
    rows = []
    for i in range(12):  # 89 % is the target range on scale 2 (hypercapnic failure)
        clock.now = T0 + 60 * i
        rows += detection.observe([tel(detection, "w-1", clock.now, spo2=89, hr=75, rr=16)])
    assert [r for r in rows if r.kind == "vitals"] == []


def test_blood_pressure_monitor_reading_in_crisis_range(detection: Detection) -> None:
    rows = detection.observe([tel(detection, "bp-1", T0, sbp=195, dbp=118, hr=90)])
    [bp] = [r for r in rows if r.kind == "bp"]
    assert (bp.resident_id, bp.priority) == ("r-2", "high")


def test_last_will_and_silence_become_device_findings(detection: Detection, clock: Clock) -> None:
    will = Status.model_validate({"state": "offline"})
    assert detection.observe([acc(detection.devices["w-1"], "status", will, T0)]) == []
    clock.now = T0 + 5  # after the storm window: one device alone
    rows = detection.tick(clock.now)
    assert [(r.kind, r.resident_id) for r in rows] == [("device_offline", "r-1")]
    detection.observe([tel(detection, "w-2", T0, hr=70)])
    assert detection.tick(T0) == []
    clock.now = T0 + 3600  # w-2 promised a reading a minute, then said nothing for an hour
    ticked = detection.tick(clock.now) + detection.tick(clock.now + 5)
    assert ("device_offline", "w-2") in {(r.kind, r.device_id) for r in ticked}


def test_a_failing_route_does_not_stop_the_others(
    detection: Detection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_a: Any, **_k: Any) -> list[Any]:
        raise RuntimeError("detector bug")

    monkeypatch.setattr(detection.environment, "hazard", broken)
    rows = detection.observe(
        [
            event(detection, "gas-1", T0, type="gas", alarm=True),
            event(detection, "w-1", T0, type="sos"),
        ]
    )
    assert [r.kind for r in rows] == ["sos"]
    assert detection.counts.failed == 1


pytestmark = pytest.mark.allow_error_logs  # the failing-route test logs the exception


def test_the_horizon_reaches_the_activity_detector(detection: Detection, clock: Clock) -> None:
    # a bathroom stay whose end waits in a backlog is judged only up to the horizon
    entered = event(detection, "door-1", T0, type="toilet", occupied=True, room="bathroom")
    assert detection.observe([entered], horizon=T0) == []
    clock.now = T0 + 10 * 3600
    held = T0 + 300
    kinds = {r.kind for r in detection.tick(clock.now, horizon=held)}
    assert "long_bathroom" not in kinds
    assert "long_bathroom" in {r.kind for r in detection.tick(clock.now, horizon=T0 + 3000)}


def test_night_rules_and_their_texts_follow_each_residents_station_zone(clock: Clock) -> None:
    """Two homes, one door opened at the same instant: 02:03 in Shanghai is a night exit,
    19:03 in Berlin is an evening out. A station without a zone follows the default."""
    d = Detection(clock=clock, timezone="Europe/Berlin")
    d.set_registry(
        [*(Device(f"door-{r}", "door", resident_id=f"r-{r}") for r in ("sh", "be", "df")),
         Device("pir-be", "motion", resident_id="r-be")],
        [Resident("r-sh", "st-sh", "王秀英"), Resident("r-be", "st-be", "Anna"),
         Resident("r-df", "st-df", "Karl")],
        stations=[Station("st-sh", "pd", "潍坊", timezone="Asia/Shanghai"),
                  Station("st-be", "mi", "Mitte", timezone="Europe/Berlin"),
                  Station("st-df", "mi", "Wedding")],
    )  # fmt: skip
    t = datetime(2026, 1, 2, 2, 3, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    clock.now = t
    doors = [
        event(d, dev, at, type="door", open=is_open, door="front")
        for dev in ("door-sh", "door-be", "door-df")
        for at, is_open in ((t, True), (t + 60, False))
    ]
    assert d.observe(doors) == []
    clock.now = t + 900
    found = d.tick(clock.now)
    assert [(f.kind, f.resident_id) for f in found] == [("night_exit", "r-sh")]
    assert "02:03" in found[0].reason["zh-CN"] and "02:03" in found[0].reason["en"]
    # the Berlin station moves to Shanghai's zone: its evenings are now nights too
    d.set_registry(
        list(d.devices.values()), list(d.residents.values()),
        stations=[Station("st-be", "mi", "Mitte", timezone="Asia/Shanghai")],
    )  # fmt: skip
    clock.now = t + 86_400
    # home again (the evening door was a way out): seen indoors, then the door at night
    home = [event(d, "pir-be", clock.now - 3600, type="motion", room="living")]
    later = home + [event(d, "door-be", clock.now + s, type="door", open=o, door="front")
                    for s, o in ((0, True), (60, False))]  # fmt: skip
    d.observe(later)
    clock.now += 900
    assert [(f.kind, f.resident_id) for f in d.tick(clock.now)] == [("night_exit", "r-be")]


def test_the_fall_model_follows_where_the_device_is_worn(clock: Clock) -> None:
    d = Detection(clock=clock)
    devices = [
        Device("w-1", "wearable", resident_id="r-1"),
        Device("w-2", "wearable", resident_id="r-1", worn_at="waist"),
        Device("p-1", "pendant", resident_id="r-1"),
        Device("gw-1", "gateway", resident_id="r-1"),
    ]
    d.set_registry(devices, [Resident("r-1", "st-1", "王秀英")])
    models = {dev.id: d.falls.model_of(dev.id) for dev in devices}
    assert models == {"w-1": "wrist", "w-2": "trunk", "p-1": "trunk", "gw-1": "wrist"}
    # A birth that declares another position reaches the registry; the next refresh moves it.
    d.set_registry(
        [Device("w-1", "wearable", resident_id="r-1", worn_at="chest"), *devices[1:]],
        [Resident("r-1", "st-1", "王秀英")],
    )
    assert d.falls.model_of("w-1") == "trunk"
