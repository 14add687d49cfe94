"""Environment detector: hazard alarms and room-temperature extremes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from hub.detect.activity import LocalTime
from hub.detect.environment import EnvironmentDetector
from hub.detect.findings import Finding

T0 = 1_772_000_000.0
MIN = 60.0


def both_reasons(found: list[Finding]) -> list[Finding]:
    for f in found:
        assert f.reason["zh-CN"] and f.reason["en"]
    return found


@pytest.mark.parametrize("kind", ["smoke", "gas", "water"])
def test_hazard_is_immediate_and_high_then_clears(kind: str) -> None:
    det = EnvironmentDetector()
    found = both_reasons(det.hazard("h-1", kind, True, T0, now=T0 + 0.5, room="kitchen"))
    assert [(f.kind, f.priority, f.at) for f in found] == [(kind, "high", T0)]
    assert found[0].evidence["room"] == "kitchen"
    assert "kitchen" in found[0].reason["en"]
    assert det.hazard("h-1", kind, True, T0 + 10, now=T0 + 10) == []  # a repeat
    cleared = both_reasons(det.hazard("h-1", kind, False, T0 + 60, now=T0 + 60))
    assert [(f.kind, f.priority) for f in cleared] == [(f"{kind}_cleared", "low")]
    assert det.hazard("h-1", kind, False, T0 + 70, now=T0 + 70) == []


def test_hazard_keys_and_hostile_times() -> None:
    det = EnvironmentDetector()
    assert [f.kind for f in det.hazard("h-1", "smoke", True, T0, now=T0)] == ["smoke"]
    # another device and another hazard of the same device have their own state
    assert [f.kind for f in det.hazard("h-2", "smoke", True, T0, now=T0)] == ["smoke"]
    assert [f.kind for f in det.hazard("h-1", "gas", True, T0, now=T0)] == ["gas"]
    # an event older than the alarm (clock jumped back / reordered) changes nothing
    assert det.hazard("h-1", "smoke", False, T0 - 30, now=T0 + 1) == []
    # a NaN or far-future device time: the alarm still fires, at the hub's time
    found = det.hazard("h-3", "water", True, math.nan, now=T0)
    assert [(f.kind, f.at) for f in found] == [("water", T0)]
    assert det.hazard("h-4", "water", True, T0 + 86_400, now=T0)[0].at == T0
    assert det.ignored == 2
    with pytest.raises(ValueError, match="hazard"):
        det.hazard("h-1", "fire", True, T0, now=T0)
    det.forget("h-1")
    assert [f.kind for f in det.hazard("h-1", "smoke", True, T0 + 5, now=T0 + 5)] == ["smoke"]


def test_cold_room_needs_persistence_and_clears_with_hysteresis() -> None:
    det = EnvironmentDetector(cold_c=16, persist_s=30 * MIN, hysteresis_c=1)
    t = T0 + np.arange(0, 60, 5) * MIN  # every 5 min for an hour
    v = np.full(len(t), 15.0)
    v[3] = 16.2  # one warm reading at 15 min restarts the run
    found = both_reasons(det.update("e-1", t, v, now=t[-1], room="bedroom"))
    assert [(f.kind, f.priority) for f in found] == [("room_temp", "medium")]
    assert found[0].at == t[4] + 30 * MIN  # 30 min after the run restarted at 20 min
    assert found[0].evidence["side"] == "cold"
    # 16.5 °C is above the limit but inside the hysteresis: not cleared; 17.2 °C clears
    assert det.update("e-1", [t[-1] + 300], [16.5], now=t[-1] + 300) == []
    back = det.update("e-1", [t[-1] + 600], [17.2], now=t[-1] + 600)
    assert [(f.kind, f.priority) for f in both_reasons(back)] == [("room_temp_cleared", "low")]


def test_hot_room_and_optional_night_limit() -> None:
    zone = LocalTime(utc_offset_s=8 * 3600)
    midnight = zone.day_start(zone.day(T0) + 1)
    det = EnvironmentDetector(hot_night_c=24.0)
    night = midnight + 1 * 3600 + np.arange(0, 45, 5) * MIN  # 01:00-01:40, 26 °C
    found = det.update("e-1", night, np.full(len(night), 26.0), now=night[-1])
    assert [(f.kind, f.evidence["limit_c"]) for f in found] == [("room_temp", 24.0)]
    day = midnight + 14 * 3600 + np.arange(0, 45, 5) * MIN  # 26 °C by day is fine
    assert EnvironmentDetector(hot_night_c=24.0).update("e-2", day, np.full(9, 26.0), day[-1]) == []
    assert EnvironmentDetector().update("e-3", night, np.full(9, 26.0), night[-1]) == []
    hot = EnvironmentDetector().update("e-4", day, np.full(9, 33.0), now=day[-1])
    assert [f.evidence["side"] for f in hot] == ["hot"]


def batch_first_alarm(
    t: NDArray[np.float64], v: NDArray[np.float64], det: EnvironmentDetector
) -> float | None:
    """When persistence is first reached, computed over the whole series with numpy."""
    ok = np.isfinite(v)
    t, v = t[ok], v[ok]
    side = np.where(v < det.cold_c, -1, np.where(v > det.hot_c, 1, 0))
    gap = np.diff(t, prepend=-np.inf) > det.max_gap_s
    new_run = gap | (np.diff(side, prepend=2) != 0)
    start = t[np.maximum.accumulate(np.where(new_run, np.arange(len(t)), 0))]
    hit = (side != 0) & (t - start >= det.persist_s)
    return float(t[hit][0]) if hit.any() else None


@pytest.mark.parametrize("seed", range(6))
def test_streaming_persistence_matches_batch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    t = T0 + np.cumsum(rng.choice([60.0, 120.0, 300.0, 1200.0], n, p=[0.5, 0.3, 0.17, 0.03]))
    v = 24 + np.cumsum(rng.normal(0, 0.6, n))  # a random walk across both limits
    v[rng.random(n) < 0.03] = np.nan
    det = EnvironmentDetector(persist_s=20 * MIN)
    expected = batch_first_alarm(t, v, det)
    cuts = np.sort(rng.choice(np.arange(1, n), 12, replace=False))
    found: list[Finding] = []
    for tt, vv in zip(np.split(t, cuts), np.split(v, cuts), strict=True):
        found += det.update("e-1", tt, vv, now=float(tt[-1]) if len(tt) else T0)
    alarms = [f.at for f in found if f.kind == "room_temp"]
    if expected is None:
        assert alarms == []
    else:
        assert alarms[0] == expected


def test_hostile_temperature_input() -> None:
    det = EnvironmentDetector(persist_s=30 * MIN)
    assert det.update("e-1", [], [], now=T0) == []
    t = T0 + np.arange(0, 50, 5) * MIN
    v = np.full(len(t), 12.0)
    v[::2] = np.nan  # NaN readings neither break nor extend the run
    assert [f.kind for f in det.update("e-1", t, v, now=t[-1])] == ["room_temp"]
    # a clock that jumps back: old readings are ignored, no second alarm, no clear
    assert det.update("e-1", t - 3600, np.full(len(t), 22.0), now=t[-1]) == []
    # a gap of days restarts persistence (readings a day apart are no "30 minutes")
    det2 = EnvironmentDetector(persist_s=30 * MIN)
    days = T0 + np.arange(5) * 86_400.0
    assert det2.update("e-2", days, np.full(5, 10.0), now=days[-1]) == []
    # readings from the future are dropped and counted
    assert det2.update("e-2", [T0 + 10 * 86_400], [10.0], now=days[-1]) == []
    assert det2.ignored == 1
    with pytest.raises(ValueError, match="1-d"):
        det.update("e-1", [T0, T0 + 1], [20.0], now=T0)


def test_devices_are_isolated() -> None:
    det = EnvironmentDetector(persist_s=30 * MIN)
    t = T0 + np.arange(0, 40, 5) * MIN
    assert det.update("cold", t, np.full(len(t), 10.0), now=t[-1])
    assert det.update("warm", t, np.full(len(t), 21.0), now=t[-1]) == []
    det.forget("cold")
    assert det.update("cold", t[-1:] + 60, [10.0], now=t[-1] + 60) == []
