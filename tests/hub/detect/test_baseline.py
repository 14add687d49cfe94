"""Baseline drift: the streaming robust baseline against numpy/scipy in batch, warm-up,
hold time, no learning from flagged periods, hostile input and per-device isolation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from hub.detect.baseline import BaselineDrift
from hub.detect.findings import Finding

T0 = 1_700_006_400.0  # on an hour boundary
STEP = 120.0
HOUR = 3600.0
DAY = 86_400.0


def resting(
    t0: float, hours: float, level: float, seed: int = 0, **extra: Any
) -> list[dict[str, Any]]:
    """Resting HR every 2 min: ``level`` with a small daily rhythm and noise."""
    rng = np.random.default_rng(seed)
    ts = t0 + np.arange(0, hours * HOUR, STEP)
    hr = level + 3 * np.sin(2 * np.pi * ts / DAY) + rng.normal(0, 2, len(ts))
    return [
        {"ts": float(t), "hr": float(round(v, 1)), **extra} for t, v in zip(ts, hr, strict=True)
    ]


def feed(det: BaselineDrift, dev: str, readings: list[dict[str, Any]], chunk: int = 17,
         **kw: Any) -> list[Finding]:  # fmt: skip
    out: list[Finding] = []
    for i in range(0, len(readings), chunk):
        out += det.update(dev, readings[i : i + chunk], **kw)
    return out


def batch_baseline(
    readings: list[dict[str, Any]], det: BaselineDrift, min_n: int = 5
) -> tuple[float, float, int]:
    """The same estimator over all learned readings at once: median and normal-scaled MAD of
    the hourly medians in the window before the current hour."""
    ts = np.array([r["ts"] for r in readings])
    hr = np.array([r["hr"] for r in readings])
    bucket = np.floor(ts / det.bucket_s).astype(np.int64)
    current = bucket[-1]
    m = np.asarray(
        [
            np.median(hr[bucket == b])
            for b in np.unique(bucket)
            if current - det.slots < b < current and (bucket == b).sum() >= min_n
        ]
    )
    return float(np.median(m)), float(stats.median_abs_deviation(m, scale="normal")), len(m)


def with_gaps(readings: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Drop whole hours (not worn) and thin others below the bucket minimum."""
    rng = np.random.default_rng(seed)
    hours = {math.floor(r["ts"] / HOUR) for r in readings}
    gone = {h for h in hours if rng.random() < 0.1}
    thin = {h for h in hours if rng.random() < 0.05}
    out = []
    for r in readings:
        h = math.floor(r["ts"] / HOUR)
        if h in gone or (h in thin and (r["ts"] % HOUR) > 6 * STEP):
            continue
        out.append(r)
    return out


# --- the streaming baseline against the batch result --------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_streaming_baseline_equals_the_batch_median_and_mad(seed: int) -> None:
    det = BaselineDrift()
    readings = with_gaps(resting(T0, 9.5 * 24, 62, seed=seed), seed)
    assert feed(det, "w-1", readings) == []
    got = det.baseline("w-1")
    assert got is not None
    want = batch_baseline(readings, det)
    assert got[2] == want[2]
    assert got[2] < det.slots  # the window slid: the first days are out
    np.testing.assert_allclose(got[:2], want[:2], rtol=1e-12)
    # The median of hourly medians is close to the plain median of the window's readings.
    recent = [r["hr"] for r in readings if r["ts"] >= readings[-1]["ts"] - 7 * DAY]
    assert abs(got[0] - float(np.median(recent))) < 1.0


def test_memory_is_bounded() -> None:
    det = BaselineDrift(bucket_cap=20)
    feed(det, "w-1", resting(T0, 10 * 24, 62))
    st = det._states["w-1"]
    assert st.ring_med.shape == (168,)
    assert len(st.values) <= 20
    assert len(st.smooth) <= det.smooth_s / STEP + 1


# --- findings ----------------------------------------------------------------------------


def test_no_finding_during_the_grace_period() -> None:
    det = BaselineDrift()
    readings = resting(T0, 48, 62) + resting(T0 + 48 * HOUR, 6, 85, seed=1)
    assert feed(det, "w-1", readings) == []
    base = det.baseline("w-1")
    assert base is not None and base[2] >= det.min_buckets  # enough buckets, not enough days


def test_sustained_drift_raises_one_finding_after_the_hold_time_and_recovers() -> None:
    det = BaselineDrift()
    onset = T0 + 4 * DAY
    readings = (
        resting(T0, 96, 62) + resting(onset, 5, 85, seed=1) + resting(onset + 5 * HOUR, 4, 62, 2)
    )
    found = feed(det, "w-1", readings)
    assert [f.kind for f in found] == ["vitals_drift", "vitals_drift_cleared"]
    drift, rec = found
    assert drift.priority == "medium"
    assert onset + det.hold_s <= drift.at <= onset + det.hold_s + det.smooth_s
    ev = drift.evidence
    assert ev["parameter"] == "hr"
    assert abs(float(ev["baseline_median"]) - 62) < 2
    assert float(ev["value"]) - float(ev["baseline_median"]) >= det.delta
    assert float(ev["duration_s"]) >= det.hold_s
    assert "较本人基线持续升高" in drift.reason["zh-CN"]
    assert drift.reason["en"].startswith("Resting heart rate above own baseline")
    assert rec.priority == "low"
    assert rec.at >= onset + 5 * HOUR + det.hold_s


def test_a_rise_shorter_than_the_hold_time_raises_nothing() -> None:
    det = BaselineDrift()
    readings = (
        resting(T0, 96, 62)
        + resting(T0 + 96 * HOUR, 1.5, 85, 1)
        + resting(T0 + 97.5 * HOUR, 3, 62, 2)
    )
    assert feed(det, "w-1", readings) == []


def test_a_gap_ends_the_run() -> None:
    det = BaselineDrift()
    start = T0 + 96 * HOUR
    readings = resting(T0, 96, 62) + resting(start, 1.5, 85, 1) + resting(start + 4.5 * HOUR, 1, 85)
    assert feed(det, "w-1", readings) == []


def test_drift_downwards_for_a_falling_parameter() -> None:
    det = BaselineDrift(parameter="spo2", direction="down", delta=3.0)
    base = [{"ts": r["ts"], "spo2": 97.0 + (r["hr"] - 62) / 4} for r in resting(T0, 96, 62)]
    low = [{"ts": r["ts"], "spo2": 92.0 + (r["hr"] - 62) / 4} for r in resting(T0 + 4 * DAY, 3, 62)]
    found = feed(det, "w-1", base + low)
    assert [f.kind for f in found] == ["vitals_drift"]
    assert found[0].evidence["direction"] == "down"
    assert "降低" in found[0].reason["zh-CN"]


# --- no learning from flagged periods ------------------------------------------------------


def test_readings_in_a_drift_are_not_learned() -> None:
    det = BaselineDrift()
    normal = resting(T0, 96, 62)
    sick = resting(T0 + 4 * DAY, 14, 85, seed=1)
    found = feed(det, "w-1", normal + sick)
    assert [f.kind for f in found] == ["vitals_drift"]
    since = float(found[0].evidence["since"])
    learned = [r for r in normal + sick if r["ts"] < since]
    got = det.baseline("w-1")
    assert got is not None
    # The baseline is what the readings before the run give (the sick hours' buckets are
    # too thin to count); had the sick hours been learned, it would be different.
    want = batch_baseline([*learned, sick[-1]], det)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert batch_baseline(normal + sick, det) != pytest.approx(want)


def test_flagged_and_moving_readings_are_not_learned() -> None:
    clean = BaselineDrift()
    det = BaselineDrift()
    normal = resting(T0, 30, 62)
    feed(clean, "w-1", normal)
    feed(det, "w-1", normal[: len(normal) // 2])
    feed(det, "w-1", resting(T0 + 15 * HOUR, 6, 100, seed=1), flagged=True)
    feed(det, "w-1", resting(T0 + 21 * HOUR, 6, 110, seed=2, quality={"motion": True}))
    feed(det, "w-1", resting(T0 + 27 * HOUR, 3, 40, seed=2, quality={"worn": False}))
    feed(det, "w-1", resting(T0 + 27 * HOUR, 3, 62, seed=2, quality={"hr": 0.1}))
    assert det.dropped["not_resting"] == 6 * 30 + 3 * 30 * 2
    # Only the first 15 h were learned: the same as a detector that saw only those.
    ref = BaselineDrift()
    feed(ref, "w-1", [*normal[: len(normal) // 2], {"ts": T0 + 30 * HOUR, "hr": 62.0}])
    det.update("w-1", [{"ts": T0 + 30 * HOUR, "hr": 62.0}])
    assert det.baseline("w-1") == ref.baseline("w-1")
    assert clean.baseline("w-1") != ref.baseline("w-1")


def test_a_drift_longer_than_the_window_relearns_without_claiming_recovery() -> None:
    det = BaselineDrift(window_s=2 * DAY, grace_period=DAY, min_buckets=12)
    found = feed(det, "w-1", resting(T0, 48, 62) + resting(T0 + 2 * DAY, 5 * 24, 85, seed=1))
    assert [f.kind for f in found] == ["vitals_drift"]
    base = det.baseline("w-1")
    assert base is not None and abs(base[0] - 85) < 2  # the new level is the new normal


# --- hostile input and isolation ---------------------------------------------------------


def test_hostile_input() -> None:
    det = BaselineDrift()
    feed(det, "w-1", resting(T0, 96, 62))
    before = det.baseline("w-1")
    last = T0 + 96 * HOUR - STEP  # the last reading fed
    bad: list[object] = [
        {"ts": last, "hr": math.nan},
        {"ts": last + 1},
        {"hr": 62},
        {"ts": "x", "hr": 62},
        {"ts": last + 2, "hr": 400},
        {"ts": last - 60, "hr": 150},  # late
        None,
    ]
    assert det.update("w-1", bad) == []
    assert det.update("w-1", []) == []
    assert det.dropped["malformed"] == 3
    assert det.dropped["late"] == 1
    assert det.dropped["not_resting"] == 1
    assert det.baseline("w-1") == before


def test_a_clock_jumping_back_restarts_the_run() -> None:
    det = BaselineDrift()
    onset = T0 + 5 * DAY
    readings = resting(T0, 5 * 24, 62) + resting(onset, 1.5, 85, 1)
    readings += resting(onset - DAY, 1, 85, 2)  # the clock goes back a day mid-run
    assert feed(det, "w-1", readings) == []
    assert det.dropped["clock_jump"] == 1
    assert det.baseline("w-1") is not None
    # Sustained after the jump, the drift is found once.
    found = feed(det, "w-1", resting(onset - DAY + HOUR, 3, 85, 3))
    assert [f.kind for f in found] == ["vitals_drift"]


def test_per_device_state_is_isolated() -> None:
    det = BaselineDrift()
    a = resting(T0, 96, 62) + resting(T0 + 4 * DAY, 4, 85, 1)
    b = resting(T0, 100, 75, seed=5)
    found: list[Finding] = []
    for i in range(0, max(len(a), len(b)), 13):
        found += det.update("a", a[i : i + 13])
        found += det.update("b", b[i : i + 13])
    assert [f.device_id for f in found] == ["a"]
    base_b = det.baseline("b")
    assert base_b is not None and abs(base_b[0] - 75) < 1
    det.forget("a")
    assert det.devices == 1
    assert det.baseline("a") is None


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="parameter"):
        BaselineDrift(parameter="glucose")
    with pytest.raises(ValueError, match="direction"):
        BaselineDrift(direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="delta"):
        BaselineDrift(delta=0)
