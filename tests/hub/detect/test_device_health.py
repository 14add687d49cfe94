"""Device health: offline (Last Will, silence), battery, not worn, clock skew, stuck sensor."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.typing import NDArray

from hub.contract.models import EVENT_ADAPTER, Status, Telemetry
from hub.detect.activity import LocalTime
from hub.detect.connectivity import ConnectivityStorms
from hub.detect.device_health import DeviceHealthDetector, DeviceMessage
from hub.detect.findings import Finding

ZONE = LocalTime(utc_offset_s=8 * 3600)
DAY = ZONE.day(1_772_000_000.0)


def local(hh: float, day: int = 0) -> float:
    return ZONE.day_start(DAY + day) + hh * 3600


T0 = local(10.0)


def tele(dev: str, at: float, **kw: object) -> DeviceMessage:
    """A telemetry message; numeric channels (hr, rssi...) go into ``readings``."""
    readings = dict(kw.pop("readings", {}))  # type: ignore[call-overload]
    readings |= {k: kw.pop(k) for k in ("hr", "rssi", "room_temp") if k in kw}
    return DeviceMessage(dev, at, "telemetry", readings=readings, **kw)  # type: ignore[arg-type]


def kinds(found: list[Finding]) -> list[tuple[str, str]]:
    for f in found:
        assert f.reason["zh-CN"] and f.reason["en"]
    return [(f.kind, f.priority) for f in found]


@pytest.mark.parametrize(
    ("kind", "priority"), [("wearable", "medium"), ("gateway", "medium"), ("door", "low")]
)
def test_last_will_is_offline_by_kind_and_a_birth_brings_it_back(kind: str, priority: str) -> None:
    det = DeviceHealthDetector()
    det.update([tele("d-1", T0, kind=kind, battery=80.0)], now=T0)
    will = DeviceMessage("d-1", T0 + 5, "status", kind=kind, state="offline", source="will")
    assert det.update([will], now=T0 + 5) == []  # held: is it one of many?
    assert det.tick(T0 + 9) == []
    found = det.tick(T0 + 10)  # the storm window has passed: this device alone
    assert kinds(found) == [("device_offline", priority)]
    assert found[0].evidence["source"] == "will"
    assert det.tick(T0 + 10_000) == []  # already reported: silence adds nothing
    birth = DeviceMessage("d-1", T0 + 20_000, "status", state="online", source="birth")
    assert kinds(det.update([birth], now=T0 + 20_000)) == [("device_online", "low")]


def immediate(**kw: object) -> DeviceHealthDetector:
    """A detector that reports offline at once (no storm window)."""
    return DeviceHealthDetector(storms=ConnectivityStorms(window_s=0), **kw)  # type: ignore[arg-type]


def test_silence_beyond_k_intervals_with_an_injected_clock() -> None:
    det = immediate(k=3.0)
    det.register("w-1", "wearable", interval_s=30.0, gateway_id="")
    det.register("s-1", "motion")  # no promise: the per-kind default (an hourly heartbeat)
    det.update([tele("w-1", T0, hr=70.0), tele("s-1", T0, rssi=-60.0)], now=T0)
    assert det.tick(T0 + 89) == []
    found = det.tick(T0 + 91)
    assert kinds(found) == [("device_offline", "medium")]
    assert found[0].device_id == "w-1"
    assert found[0].evidence["interval_s"] == 30.0
    assert found[0].evidence["source"] == "silence"
    assert det.tick(T0 + 200) == []  # once
    assert [f.device_id for f in det.tick(T0 + 3 * 3600 + 1)] == ["s-1"]
    back = det.update([tele("w-1", T0 + 4 * 3600, hr=71.0)], now=T0 + 4 * 3600)
    assert kinds(back) == [("device_online", "low")]


def test_silence_is_judged_only_up_to_the_horizon() -> None:
    """Messages the hub holds but has not passed on (a slow store write) are not silence."""
    det = immediate(k=3.0)
    det.register("w-1", "wearable", interval_s=30.0, gateway_id="")
    det.update([tele("w-1", T0, hr=70.0)], now=T0)
    assert det.tick(T0 + 600, horizon=T0 + 80) == []  # a batch received at T0 + 80 waits
    assert det.tick(T0 + 600, horizon=T0 + 89) == []
    found = det.tick(T0 + 600, horizon=T0 + 95)  # up to T0 + 95 everything was seen
    assert kinds(found) == [("device_offline", "medium")]
    assert found[0].evidence["silent_s"] == 95.0
    assert found[0].at == T0 + 600


def test_hub_restart_gives_every_device_its_grace() -> None:
    det = immediate()
    det.register("w-1", "wearable", interval_s=60.0, last_seen_at=T0 - 3600)  # from the store
    assert det.tick(T0) == []  # the hub was down: do not blame the device yet
    assert kinds(det.tick(T0 + 181)) == [("device_offline", "medium")]
    det.register("never", "wearable")  # provisioned, never heard: nothing to say
    assert det.tick(T0 + 10_000) == []


def test_status_interval_and_clean_shutdown() -> None:
    det = DeviceHealthDetector()
    birth = DeviceMessage("p-1", T0, "status", kind="pendant", state="online", interval_s=600.0)
    assert det.update([birth], now=T0) == []
    assert det.expected_interval("p-1") == 600.0
    assert det.tick(T0 + 1799) == []
    off = DeviceMessage("p-1", T0 + 1000, "status", state="offline", source="shutdown",
                        reason="low_battery")  # fmt: skip
    found = det.update([off], now=T0 + 1000)
    assert kinds(found) == [("device_offline", "medium")]
    assert "low_battery" in found[0].reason["en"]


def test_battery_two_levels_with_hysteresis() -> None:
    det = DeviceHealthDetector(battery_low=20, battery_critical=10, battery_hysteresis=5)
    pct = [50, 21, 19.5, 20.5, 19.8, 21, 22, 18, 11, 9.9, 10.5, 9.5, 14, 16, 12, 24, 26, 19]
    found = det.update([tele("w-1", T0 + i, battery=float(p)) for i, p in enumerate(pct)], T0 + 99)
    assert kinds(found) == [
        ("low_battery", "low"),  # 19.5; wobbling around 20 % adds nothing
        ("battery_critical", "medium"),  # 9.9; 10.5, 9.5, 14 stay critical
        ("low_battery_cleared", "low"),  # 26 (>= 20 + 5); 16, 12, 24 said nothing
        ("low_battery", "low"),  # 19
    ]
    assert [f.evidence["battery_pct"] for f in found] == [19.5, 9.9, 26.0, 19.0]
    direct = det.update([tele("w-2", T0, battery=5.0), tele("w-2", T0 + 1, battery=math.nan)], T0)
    assert kinds(direct) == [("battery_critical", "medium")]


def test_not_worn_counts_daytime_only() -> None:
    det = DeviceHealthDetector(not_worn_s=30 * 60, day_h=(7, 22))
    det.register("w-1", "wearable", interval_s=60.0)

    def feed(t0: float, t1: float, worn: bool) -> list[Finding]:
        out: list[Finding] = []
        for t in np.arange(t0, t1, 60.0):
            out += det.update([tele("w-1", float(t), hr=70.0, worn=worn)], now=float(t))
            out += det.tick(float(t))
        return out

    assert feed(local(21.75), local(23.0), False) == []  # 15 min of daytime, then night
    found = feed(local(23.0), local(7.5, 1), False)
    assert kinds(found) == [("not_worn", "medium")]
    assert abs(found[0].at - local(7.25, 1)) <= 60  # the other 15 min the next morning
    again = feed(local(7.5, 1), local(7.6, 1), True)
    assert kinds(again) == [("not_worn_cleared", "low")]


def test_wear_events_and_offline_suppresses_not_worn() -> None:
    det = immediate(not_worn_s=30 * 60)
    det.register("w-1", "wearable", interval_s=60.0)
    off = DeviceMessage("w-1", local(9), "event", worn=False)
    det.update([off], now=local(9))
    found = det.tick(local(9.6))
    assert ("device_offline", "medium") in kinds(found)
    assert ("not_worn", "medium") not in kinds(found)


def test_clock_skew_needs_several_messages() -> None:
    det = DeviceHealthDetector(skew_s=120, skew_messages=5)
    offs = [300, 310, 20, 300, 300, 305, 300] + [300] * 3 + [1, 2, 3, 4] + [0] + [200]
    msgs = [tele("w-1", T0 + 60 * i, clock_offset_s=float(o)) for i, o in enumerate(offs)]
    found = det.update(msgs, now=T0 + 60 * len(offs))
    assert kinds(found) == [("clock_skew", "low"), ("clock_skew_cleared", "low")]
    assert found[0].at == T0 + 60 * 7  # the 5th bad message in a row
    assert found[0].evidence["offset_s"] == 300.0
    assert "ahead" in found[0].reason["en"]


def test_a_gateway_clock_drift_is_one_finding_for_the_home() -> None:
    det = DeviceHealthDetector(skew_s=120, skew_messages=3)
    det.register("gw-1", "gateway")
    for sensor in ("door-1", "pir-1", "bed-1"):
        det.register(sensor, sensor.split("-")[0], gateway_id="gw-1")
    det.register("w-1", "wearable")  # a wearable keeps its own clock
    msgs = [
        tele(dev, T0 + 60 * i + j, clock_offset_s=900.0)
        for i in range(4)
        for j, dev in enumerate(("gw-1", "door-1", "pir-1", "bed-1"))
    ]
    found = det.update(msgs, now=T0 + 600)
    assert [(f.kind, f.device_id) for f in found] == [("clock_skew", "gw-1")]
    # back in sync: cleared only once the gateway and every sub-device agree
    ok = [tele(dev, T0 + 600 + 60 * i + j, clock_offset_s=0.5)
          for i in range(4) for j, dev in enumerate(("gw-1", "door-1", "pir-1"))]  # fmt: skip
    assert det.update(ok, now=T0 + 900) == []  # bed-1 has not been heard in sync yet
    bed_ok = [tele("bed-1", T0 + 900 + 60 * i, clock_offset_s=0.5) for i in range(3)]
    cleared = det.update(bed_ok, now=T0 + 1200)
    assert [(f.kind, f.device_id, f.evidence["via"]) for f in cleared] == [
        ("clock_skew_cleared", "gw-1", "bed-1")
    ]
    # a sub-device alone (its own clock) is still reported, on its gateway
    own = [tele("door-1", T0 + 1300 + 60 * i, clock_offset_s=-400.0) for i in range(3)]
    alone = det.update(own, now=T0 + 1500)
    assert [(f.kind, f.device_id, f.evidence["via"]) for f in alone] == [
        ("clock_skew", "gw-1", "door-1")
    ]


def batch_stuck(x: NDArray[np.float64], window: int) -> tuple[list[int], list[int]]:
    """Indices (among finite readings) where a stuck run is reported and where it clears."""
    x = x[np.isfinite(x)]
    new_run = np.r_[True, x[1:] != x[:-1]]
    start = np.maximum.accumulate(np.where(new_run, np.arange(len(x)), 0))
    run = np.arange(len(x)) - start + 1
    stuck_at = np.flatnonzero((run == window) & (start > 0))
    stuck_starts = set(start[stuck_at].tolist())
    clears = [i for i in np.flatnonzero(new_run).tolist() if i > 0 and start[i - 1] in stuck_starts]
    return stuck_at.tolist(), clears


@pytest.mark.parametrize("seed", range(5))
def test_stuck_sensor_matches_batch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, window = 600, 30
    x = np.round(70 + rng.normal(0, 3, n))  # integer heart rates repeat now and then
    for _ in range(3):  # freeze the sensor a few times
        a = int(rng.integers(0, n - 60))
        x[a : a + int(rng.integers(20, 60))] = x[a]
    x[rng.random(n) < 0.02] = np.nan
    x[:40] = 65.0  # constant from the very start: never seen varying, not judged
    det = DeviceHealthDetector(stuck_window={"hr": window})
    finite_idx = np.flatnonzero(np.isfinite(x))
    msgs = [tele("w-1", T0 + i, readings={"hr": float(v)}) for i, v in enumerate(x)]
    found: list[Finding] = []
    for chunk in np.array_split(np.arange(n), 7):
        found += det.update([msgs[i] for i in chunk], now=T0 + float(chunk[-1]))
    stuck, clears = batch_stuck(x, window)
    assert [int(f.at - T0) for f in found if f.kind == "stuck_sensor"] == finite_idx[stuck].tolist()
    got = [int(f.at - T0) for f in found if f.kind == "stuck_sensor_cleared"]
    assert got == finite_idx[clears].tolist()
    assert stuck, "the frozen stretches must be long enough to be found"


def test_channels_not_watched_are_ignored() -> None:
    det = DeviceHealthDetector(stuck_window={"hr": 3})
    msgs = [tele("w-1", T0 + i, readings={"spo2": 98.0, "hr": 70.0 + i}) for i in range(50)]
    assert det.update(msgs, now=T0 + 60) == []


def test_hostile_input_and_isolation() -> None:
    det = immediate()
    assert det.update([], now=T0) == [] and det.tick(T0) == []
    nan_time = DeviceMessage("w-9", math.nan, "telemetry", battery=5.0)
    assert det.update([nan_time], now=T0) == []
    det.register("w-1", "wearable", interval_s=60.0)
    det.register("w-2", "wearable", interval_s=60.0)
    det.update([tele("w-1", T0), tele("w-2", T0)], now=T0)
    # the hub clock jumps back an hour, then a later tick: only the silent device is flagged
    assert det.tick(T0 - 3600) == []
    det.update([tele("w-2", T0 + 150)], now=T0 + 150)
    assert [f.device_id for f in det.tick(T0 + 200)] == ["w-1"]
    # a gap of days, then the device speaks: online, once
    assert kinds(det.update([tele("w-1", T0 + 5 * 86_400)], now=T0 + 5 * 86_400)) == [
        ("device_online", "low")
    ]
    det.forget("w-1")
    assert det.devices == 1  # w-2 (a message without a valid time creates nothing)
    with pytest.raises(ValueError, match="finite"):
        det.tick(math.inf)
    with pytest.raises(ValueError, match="battery"):
        DeviceHealthDetector(battery_low=10, battery_critical=20)


def accepted(message: object, msg_type: str, offset: float | None = None) -> SimpleNamespace:
    """Stands in for ``hub.ingest.core.Accepted``."""
    dev = SimpleNamespace(id="w-1", kind="wearable", interval_s=None)
    return SimpleNamespace(
        device=dev, msg_type=msg_type, message=message, received_at=T0, clock_offset_s=offset
    )


def test_from_accepted_reads_contract_models() -> None:
    tel = Telemetry.model_validate(
        {"ts": T0, "seq": 1, "hr": 72, "battery": 15, "quality": {"worn": False}}
    )
    m = DeviceMessage.from_accepted(accepted(tel, "telemetry", 3.0))
    assert (m.battery, m.worn, m.readings, m.clock_offset_s) == (15.0, False, {"hr": 72.0}, 3.0)
    s = DeviceMessage.from_accepted(accepted(Status.model_validate({"state": "offline"}), "status"))
    assert (s.state, s.source, s.kind) == ("offline", "will", "wearable")
    wear = EVENT_ADAPTER.validate_python({"type": "wear", "ts": T0, "seq": 2, "worn": True})
    assert DeviceMessage.from_accepted(accepted(wear, "event")).worn is True


# --- connectivity storms ------------------------------------------------------------------


def will(dev: str, at: float, kind: str = "wearable", **kw: object) -> DeviceMessage:
    return DeviceMessage(dev, at, "status", kind=kind, state="offline", source="will", **kw)  # type: ignore[arg-type]


def birth(dev: str, at: float) -> DeviceMessage:
    return DeviceMessage(dev, at, "status", state="online", source="birth")


def fleet(n: int, station: str = "st-1", gateway: str | None = None) -> DeviceHealthDetector:
    det = DeviceHealthDetector()
    for i in range(n):
        det.register(f"w-{i:02d}", "wearable", interval_s=60.0, station_id=station,
                     gateway_id=gateway)  # fmt: skip
    det.update([tele(f"w-{i:02d}", T0, hr=70.0) for i in range(n)], now=T0)
    return det


def test_thirty_wills_within_two_seconds_are_one_storm_not_thirty_offlines() -> None:
    det = fleet(30)
    found: list[Finding] = []
    for i in range(30):  # one Will at a time, as a broker restart delivers them
        at = T0 + 100 + i * 2.0 / 30
        found += det.update([will(f"w-{i:02d}", at)], now=at)
        found += det.tick(at)
    found += det.tick(T0 + 130)  # long after the window: nothing else comes out
    assert kinds(found)[0] == ("connectivity_loss", "medium")
    assert {f.kind for f in found} == {"connectivity_loss"}
    assert all(f.device_id == "station:st-1" for f in found)
    last = found[-1].evidence
    assert last["device_count"] == 30 and last["scope"] == "station"
    assert set(str(last["devices"]).split(",")) == {f"w-{i:02d}" for i in range(30)}
    assert len(found) <= 2  # opened, then at most one update per window with the full list
    assert "30" in found[-1].reason["zh-CN"] and "30" in found[-1].reason["en"]


def test_two_wills_stay_per_device() -> None:
    det = fleet(30)
    found = det.update([will("w-00", T0 + 100), will("w-01", T0 + 100.5)], now=T0 + 100.5)
    found += det.tick(T0 + 106)
    assert sorted((f.kind, f.device_id) for f in found) == [
        ("device_offline", "w-00"), ("device_offline", "w-01"),
    ]  # fmt: skip
    back = det.update([birth("w-00", T0 + 200)], now=T0 + 200)
    assert kinds(back) == [("device_online", "low")]


def test_a_blip_shorter_than_the_window_raises_nothing() -> None:
    det = fleet(3)
    assert det.update([will("w-00", T0 + 100)], now=T0 + 100) == []
    assert det.update([birth("w-00", T0 + 102)], now=T0 + 102) == []
    assert det.tick(T0 + 120) == []


def test_storm_clears_when_devices_return_and_a_straggler_gets_its_own_offline() -> None:
    det = fleet(20)
    det.update([will(f"w-{i:02d}", T0 + 100 + i * 0.05) for i in range(20)], now=T0 + 101)
    assert det.storms.open_storms == ["station:st-1"]
    back: list[Finding] = []
    for i in range(19):  # all but w-19 reconnect over the next minute
        at = T0 + 110 + 3 * i
        back += det.update([birth(f"w-{i:02d}", at)], now=at)
    assert back == []  # no per-device online: they never had their own offline
    assert det.tick(T0 + 200) == []  # still settling (within settle_s of the last return)
    cleared = det.tick(T0 + 110 + 3 * 18 + 120)
    assert [(f.kind, f.device_id) for f in cleared] == [
        ("connectivity_loss_cleared", "station:st-1"), ("device_offline", "w-19"),
    ]  # fmt: skip
    assert cleared[0].evidence["still_offline"] == "w-19"
    assert cleared[1].evidence["after_storm"] == "station:st-1"
    assert kinds(det.update([birth("w-19", T0 + 900)], now=T0 + 900)) == [("device_online", "low")]


def test_storm_of_a_gateway_site_and_of_the_whole_hub() -> None:
    det = DeviceHealthDetector()
    det.register("gw-1", "gateway", station_id="st-1")
    for i in range(6):
        det.register(f"s-{i}", "door", gateway_id="gw-1", station_id="st-1")
    for i in range(6):
        det.register(f"x-{i}", "wearable", station_id=f"st-{i + 2}")
    wills = [will("gw-1", T0, "gateway")] + [will(f"s-{i}", T0 + 0.1, "door") for i in range(6)]
    found = det.update(wills, now=T0 + 1)
    assert [(f.kind, f.device_id, f.evidence["scope"]) for f in found] == [
        ("connectivity_loss", "gw-1", "gateway")
    ]
    hub = det.update([will(f"x-{i}", T0 + 50 + i * 0.1) for i in range(6)], now=T0 + 51)
    assert [(f.kind, f.device_id) for f in hub] == [("connectivity_loss", "hub")]


def test_retained_wills_replayed_on_the_hubs_reconnect_are_one_storm() -> None:
    det = fleet(25)
    det.link_changed(False, T0 + 50)
    assert det.tick(T0 + 1000) == []  # the hub's own outage is nobody's silence
    det.link_changed(True, T0 + 1000)
    replayed = [will(f"w-{i:02d}", T0 + 1000.2, retained=True) for i in range(25)]
    found = det.update(replayed, now=T0 + 1000.3) + det.tick(T0 + 1010)
    assert kinds(found) == [("connectivity_loss", "medium")]
    assert det.tick(T0 + 1000 + 170) == []  # silence counts afresh from the reconnect


def test_hostile_storm_times_backwards_and_nan() -> None:
    det = fleet(30)
    msgs = [will(f"w-{i:02d}", T0 + 102 - i * 0.06) for i in range(30)]  # time runs back
    msgs[3] = will("w-03", math.nan)
    msgs[7] = will("w-07", -math.inf)
    found: list[Finding] = []
    for m in msgs:
        found += det.update([m], now=T0 + 102)
    found += det.tick(T0 + 110)
    assert {f.kind for f in found} == {"connectivity_loss"}
    assert found[-1].evidence["device_count"] == 28  # the two without a time are ignored
    later = det.tick(T0 + 500)  # ...until they are silent too: they join the open storm
    assert [(f.kind, f.evidence["device_count"]) for f in later] == [("connectivity_loss", 30)]
    with pytest.raises(ValueError, match="min_devices"):
        ConnectivityStorms(min_devices=1)
    det.link_changed(False, math.nan)  # ignored, no crash
    assert det.tick(T0 + 600) == []
