"""Self-service blood-pressure and glucose readings: out-of-range edges, clinician limits,
robust trends against scipy in batch, late readings, hostile input, isolation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from hub.detect.bp_glucose import BpGlucoseDetector, theil_sen
from hub.detect.findings import Finding

T0 = 1_700_000_000.0
DAY = 86_400.0


def one(det: BpGlucoseDetector, **values: Any) -> list[Finding]:
    return det.update("m-1", [{"ts": T0, **values}])


@pytest.mark.parametrize(
    ("sbp", "dbp", "condition", "priority"),
    [
        (179, 99, "hypertension", "low"),
        (180, 90, "hypertensive_crisis", "high"),
        (150, 119, "hypertension", "low"),
        (150, 120, "hypertensive_crisis", "high"),
        (159, 99, None, None),
        (160, 80, "hypertension", "low"),
        (150, 100, "hypertension", "low"),
        (90, 60, None, None),
        (89, 60, "hypotension", "medium"),
    ],
)
def test_blood_pressure_edges(
    sbp: float, dbp: float, condition: str | None, priority: str | None
) -> None:
    found = one(BpGlucoseDetector(), sbp=sbp, dbp=dbp)
    if condition is None:
        assert found == []
        return
    assert len(found) == 1
    f = found[0]
    assert (f.kind, f.evidence["condition"], f.priority) == ("bp", condition, priority)
    assert (f.evidence["sbp"], f.evidence["dbp"]) == (sbp, dbp)
    assert f"{sbp}/{dbp} mmHg" in f.reason["en"]
    assert f"{sbp}/{dbp} mmHg" in f.reason["zh-CN"]


@pytest.mark.parametrize(
    ("glucose", "condition", "priority"),
    [
        (2.99, "hypoglycaemia_level2", "high"),
        (3.0, "hypoglycaemia", "medium"),
        (3.89, "hypoglycaemia", "medium"),
        (3.9, None, None),
        (13.9, None, None),
        (13.91, "hyperglycaemia", "medium"),
        (33.3, "hyperglycaemia", "medium"),
        (33.31, "hyperglycaemic_crisis", "high"),
    ],
)
def test_glucose_edges(glucose: float, condition: str | None, priority: str | None) -> None:
    found = one(BpGlucoseDetector(), glucose=glucose)
    if condition is None:
        assert found == []
        return
    assert [(f.kind, f.evidence["condition"], f.priority) for f in found] == [
        ("glucose", condition, priority)
    ]


def test_reasons_in_both_languages() -> None:
    (f,) = one(BpGlucoseDetector(), glucose=3.5)
    assert f.reason == {"zh-CN": "低血糖：3.5 mmol/L", "en": "Low blood sugar: 3.5 mmol/L"}
    (f,) = one(BpGlucoseDetector(), sbp=185, dbp=95)
    assert f.reason == {
        "zh-CN": "血压严重升高：185/95 mmHg",
        "en": "Severely high blood pressure: 185/95 mmHg",
    }


def test_clinician_limits_replace_the_defaults() -> None:
    det = BpGlucoseDetector()
    det.set_clinical("m-1", {"sbp_high": 150, "sbp_low": 100, "glucose_low": 4.5,
                             "glucose_high": 11.0, "hr_high": 120})  # fmt: skip
    assert one(det, sbp=150, dbp=80) == []
    (f,) = one(det, sbp=151, dbp=80)
    assert (f.evidence["condition"], f.priority) == ("above_limit", "medium")
    assert "150" in f.reason["en"] and "150" in f.reason["zh-CN"]
    (f,) = one(det, sbp=165, dbp=80)  # grade 2, but the clinician's limit rules: medium
    assert f.priority == "medium"
    (f,) = one(det, sbp=182, dbp=80)  # the crisis rule always applies
    assert f.priority == "high"
    (f,) = one(det, sbp=99, dbp=60)
    assert f.evidence["condition"] == "hypotension"
    (f,) = one(det, glucose=4.4)
    assert (f.evidence["condition"], f.evidence["limit"]) == ("hypoglycaemia", 4.5)
    (f,) = one(det, glucose=11.5)
    assert f.evidence["condition"] == "hyperglycaemia"
    (f,) = one(det, glucose=2.5)  # level 2 is not moved by the clinician's limit
    assert f.priority == "high"


def test_bad_clinical_settings_are_refused() -> None:
    det = BpGlucoseDetector()
    for bad in ({"sbp_high": "150"}, {"glucose_low": math.inf}, {"dbp_high": True}):
        with pytest.raises(ValueError, match="clinical"):
            det.set_clinical("m-1", bad)


# --- trends ------------------------------------------------------------------------------


def bp_week(start: float, rise: float, seed: int, days: float = 7.0) -> list[dict[str, Any]]:
    """Three readings a day, systolic from 125 rising by ``rise`` over ``days``, with noise."""
    rng = np.random.default_rng(seed)
    ts = start + np.sort(rng.uniform(0, days * DAY, int(3 * days)))
    sbp = 125 + rise * (ts - start) / (days * DAY) + rng.normal(0, 4, len(ts))
    return [
        {"ts": float(t), "sbp": float(round(s)), "dbp": 80.0} for t, s in zip(ts, sbp, strict=True)
    ]


def test_a_rising_blood_pressure_gives_one_trend_finding() -> None:
    det = BpGlucoseDetector()
    found: list[Finding] = []
    for r in bp_week(T0, rise=30, seed=1):
        found += det.update("m-1", [r])
    trends = [f for f in found if f.evidence["condition"] == "trend"]
    assert len(trends) == 1
    t = trends[0]
    assert (t.kind, t.priority) == ("bp", "low")
    assert float(t.evidence["rise"]) >= det.sbp_trend_rise
    assert float(t.evidence["rise_low"]) > 0
    assert t.at - float(t.evidence["first_at"]) >= det.trend_min_span_s
    assert "上升趋势" in t.reason["zh-CN"] and "rising" in t.reason["en"]


def test_a_flat_series_and_a_single_outlier_give_no_trend() -> None:
    det = BpGlucoseDetector()
    readings = bp_week(T0, rise=0, seed=2)
    readings[-1] = {**readings[-1], "sbp": 200.0}  # one odd reading: a crisis, not a trend
    found = [f for r in readings for f in det.update("m-1", [r])]
    assert [f.evidence["condition"] for f in found] == ["hypertensive_crisis"]


def test_glucose_trend() -> None:
    det = BpGlucoseDetector()
    rng = np.random.default_rng(3)
    ts = T0 + np.arange(21) * DAY / 3
    g = 6.0 + 3.0 * (ts - T0) / (7 * DAY) + rng.normal(0, 0.3, 21)
    found = det.update(
        "m-1", [{"ts": float(t), "glucose": float(v)} for t, v in zip(ts, g, strict=True)]
    )
    assert [(f.kind, f.evidence["condition"]) for f in found] == [("glucose", "trend")]


def test_trend_equals_scipy_on_the_window_whatever_the_order() -> None:
    det = BpGlucoseDetector()
    readings = bp_week(T0, rise=15, seed=4, days=10)
    rng = np.random.default_rng(4)
    order = rng.permutation(len(readings))
    for chunk in np.array_split(order, 5):
        det.update("m-1", [readings[i] for i in chunk])
    newest = max(r["ts"] for r in readings)
    window = sorted((r["ts"], r["sbp"]) for r in readings if r["ts"] >= newest - 7 * DAY)
    st = det._states["m-1"]
    assert st.sbp == window
    t = np.array([p[0] for p in window])
    y = np.array([p[1] for p in window])
    res = stats.theilslopes(y, (t - t[0]) / (7 * DAY), alpha=0.90)
    got = det.trend(st.sbp)
    assert got is not None
    np.testing.assert_allclose(got, (res.slope, res.low_slope, res.high_slope), rtol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_theil_sen_equals_scipy_with_ties_and_any_confidence(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    x = np.round(rng.uniform(0, 1, n), int(rng.integers(1, 3)))  # rounded: ties in x
    y = np.round(120 + 10 * x + rng.normal(0, 5, n))  # whole mmHg: ties in y
    confidence = float(rng.choice([0.8, 0.9, 0.95, 0.3]))
    if not (x[:, None] - x > 0).any():
        return  # all x equal: scipy warns and returns nan
    res = stats.theilslopes(y, x, alpha=confidence)
    np.testing.assert_allclose(
        theil_sen(y, x, confidence), (res.slope, res.low_slope, res.high_slope), rtol=1e-12
    )


def test_a_steep_but_uncertain_slope_gives_no_trend() -> None:
    # Zigzag over the minimum span: the Theil-Sen rise is about 29 mmHg a week, above the
    # threshold, but its confidence interval reaches below zero.
    days = [0.0, 0.6, 1.2, 1.8, 2.4, 3.0]
    sbp = [120.0, 160.0, 118.0, 165.0, 121.0, 170.0]
    det = BpGlucoseDetector(high_sbp=200, high_dbp=200)
    series = [(T0 + d * DAY, s) for d, s in zip(days, sbp, strict=True)]
    trend = det.trend(series)
    assert trend is not None and trend[0] >= det.sbp_trend_rise and trend[1] < 0
    found = det.update("m-1", [{"ts": t, "sbp": s, "dbp": 80.0} for t, s in series])
    assert found == []


def test_too_few_or_too_close_readings_give_no_trend() -> None:
    det = BpGlucoseDetector()
    assert det.trend([(T0 + i, 120.0 + i) for i in range(20)]) is None  # 20 s span
    assert det.trend([(T0 + i * DAY, 120.0 + 10 * i) for i in range(4)]) is None  # 4 readings


# --- late readings, hostile input, isolation ---------------------------------------------


def test_a_synced_backlog_alarms_only_on_its_recent_readings() -> None:
    det = BpGlucoseDetector()
    batch = [
        {"ts": T0 - 10 * 3600, "glucose": 2.5},  # 10 h before the newest: history
        {"ts": T0 - 3600, "glucose": 3.5},
        {"ts": T0, "glucose": 6.0},
    ]
    found = det.update("m-1", batch)
    assert [f.evidence["condition"] for f in found] == ["hypoglycaemia"]
    assert det.dropped["late"] == 1
    assert len(det._states["m-1"].glucose) == 3  # still counts for trends


def test_hostile_input_is_counted_never_raised() -> None:
    det = BpGlucoseDetector()
    bad: list[object] = [
        {"ts": T0, "glucose": math.nan, "sbp": math.nan},
        {"ts": T0, "sbp": 120, "dbp": 130},  # dbp above sbp
        {"ts": T0, "sbp": 400},
        {"ts": T0, "glucose": 0.1},
        {"glucose": 2.0},
        {"ts": None, "glucose": 2.0},
        {"ts": T0, "glucose": "2.0"},
        [],
    ]
    assert det.update("m-1", bad) == []
    assert det.update("m-1", []) == []
    assert det.dropped["implausible"] == 3
    assert det.dropped["malformed"] == 4


def test_dbp_alone_is_judged() -> None:
    (f,) = one(BpGlucoseDetector(), dbp=125)
    assert f.priority == "high"
    assert "–/125 mmHg" in f.reason["en"]


def test_per_device_state_is_isolated() -> None:
    det = BpGlucoseDetector()
    det.set_clinical("a", {"glucose_low": 5.0})
    found: list[Finding] = []
    for ra, rb in zip(bp_week(T0, 30, 5), bp_week(T0, 0, 6), strict=True):
        found += det.update("a", [ra])
        found += det.update("b", [rb])
    assert {f.device_id for f in found} == {"a"}
    assert det.update("b", [{"ts": T0 + 8 * DAY, "glucose": 4.5}]) == []
    assert len(det.update("a", [{"ts": T0 + 8 * DAY, "glucose": 4.5}])) == 1
    det.forget("a")
    assert det.devices == 1
