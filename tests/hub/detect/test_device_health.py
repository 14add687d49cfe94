"""Device health: offline (Last Will, silence), battery, not worn, clock skew, stuck sensor."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.typing import NDArray

from hub.contract.models import EVENT_ADAPTER, Status, Telemetry
from hub.detect.activity import LocalTime
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
    found = det.update([will], now=T0 + 5)
    assert kinds(found) == [("device_offline", priority)]
    assert found[0].evidence["source"] == "will"
    assert det.tick(T0 + 10_000) == []  # already reported: silence adds nothing
    birth = DeviceMessage("d-1", T0 + 20_000, "status", state="online", source="birth")
    assert kinds(det.update([birth], now=T0 + 20_000)) == [("device_online", "low")]


def test_silence_beyond_k_intervals_with_an_injected_clock() -> None:
    det = DeviceHealthDetector(k=3.0)
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
    det = DeviceHealthDetector(k=3.0)
    det.register("w-1", "wearable", interval_s=30.0, gateway_id="")
    det.update([tele("w-1", T0, hr=70.0)], now=T0)
    assert det.tick(T0 + 600, horizon=T0 + 80) == []  # a batch received at T0 + 80 waits
    assert det.tick(T0 + 600, horizon=T0 + 89) == []
    found = det.tick(T0 + 600, horizon=T0 + 95)  # up to T0 + 95 everything was seen
    assert kinds(found) == [("device_offline", "medium")]
    assert found[0].evidence["silent_s"] == 95.0
    assert found[0].at == T0 + 600


def test_hub_restart_gives_every_device_its_grace() -> None:
    det = DeviceHealthDetector()
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
    det = DeviceHealthDetector(not_worn_s=30 * 60)
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
    det = DeviceHealthDetector()
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
