"""Vital-sign detector: hand-built streams, gating, persistence, clinician limits, recovery,
hostile input, per-device isolation, and the streaming persistence filter against a batch
reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from hub.contract.models import Telemetry
from hub.detect import news2
from hub.detect.findings import Finding
from hub.detect.vitals import Clinical, VitalReading, VitalsDetector, as_reading

T0 = 1_700_000_000.0
STEP = 60.0
NORMAL: dict[str, Any] = {"hr": 72, "spo2": 97, "rr": 16, "temp": 36.8}


def stream(
    values: list[dict[str, Any]], t0: float = T0, step: float = STEP
) -> list[dict[str, Any]]:
    return [{"ts": t0 + i * step, **v} for i, v in enumerate(values)]


def normal(n: int) -> list[dict[str, Any]]:
    return [dict(NORMAL) for _ in range(n)]


def with_(n: int, **changes: Any) -> list[dict[str, Any]]:
    return [{**NORMAL, **changes} for _ in range(n)]


def feed(det: VitalsDetector, dev: str, readings: list[dict[str, Any]]) -> list[Finding]:
    """One reading per call, as the pipeline delivers a quiet device's messages."""
    out: list[Finding] = []
    for r in readings:
        out += det.update(dev, [r])
    return out


# --- hand-built streams ------------------------------------------------------------------


def test_steady_hypoxia_raises_exactly_one_finding_after_the_persistence_window() -> None:
    det = VitalsDetector(persist_n=3, persist_s=300)
    readings = stream(normal(10) + with_(30, spo2=88))
    onset = readings[10]["ts"]
    found = feed(det, "w-1", readings)
    assert len(found) == 1
    f = found[0]
    assert (f.kind, f.priority) == ("vitals", "medium")
    assert onset + det.persist_s <= f.at <= onset + det.persist_s + 2 * STEP
    ev = f.evidence
    assert (ev["parameter"], ev["direction"], ev["value"]) == ("spo2", "low", 88)
    assert (ev["news2"], ev["band"], ev["condition"]) == (3, "low-medium", "news2")
    assert ev["partial"] is True
    assert ev["score_spo2"] == 3 and ev["score_hr"] == 0
    assert ev["consciousness"] == "not_assessed"
    assert int(ev["readings"]) >= det.persist_n
    assert f.reason == {
        "zh-CN": "血氧持续偏低：88%（NEWS2 3 分）",
        "en": "Low oxygen saturation: 88% (NEWS2 3)",
    }


@pytest.mark.parametrize(("n", "seconds"), [(10, 60.0), (2, 600.0)])
def test_both_persistence_conditions_must_hold(n: int, seconds: float) -> None:
    det = VitalsDetector(persist_n=n, persist_s=seconds, max_step={})
    readings = stream(normal(5) + with_(30, spo2=88))
    onset = readings[5]["ts"]
    found = feed(det, "w-1", readings)
    assert len(found) == 1
    # The finding comes with the reading that completes both conditions, not before.
    want = max(onset + (n - 1) * STEP, onset + seconds)
    assert found[0].at == want


def test_a_single_motion_artefact_spike_raises_nothing() -> None:
    det = VitalsDetector()
    spike = {"hr": 160, "spo2": 78, "rr": 30, "temp": 36.8, "quality": {"motion": True}}
    found = feed(det, "w-1", stream([*normal(10), spike, *normal(10)]))
    assert found == []
    assert det.gated["motion"] == 3


@pytest.mark.parametrize("length", [1, 2])
def test_a_short_unflagged_spike_raises_nothing(length: int) -> None:
    det = VitalsDetector()
    found = feed(det, "w-1", stream(normal(10) + with_(length, hr=150, spo2=80) + normal(10)))
    assert found == []


def test_low_quality_readings_are_gated() -> None:
    det = VitalsDetector()
    bad = with_(20, spo2=85, quality={"spo2": 0.2, "hr": 0.9})
    assert feed(det, "w-1", stream(normal(5) + bad)) == []
    assert det.gated["low_quality"] == 20


def test_a_sensor_off_period_raises_nothing() -> None:
    det = VitalsDetector()
    off = with_(60, hr=35, spo2=70, temp=31.0, quality={"worn": False})
    assert feed(det, "w-1", stream(normal(10) + off + normal(10))) == []
    assert det.gated["not_worn"] == 60 * 4  # hr, spo2, rr, temp


def test_recovery_clears_once_after_the_persistence_window() -> None:
    det = VitalsDetector(persist_n=3, persist_s=300)
    readings = stream(normal(5) + with_(20, spo2=88) + normal(20))
    back = readings[25]["ts"]
    found = feed(det, "w-1", readings)
    assert [f.kind for f in found] == ["vitals", "vitals_recovered"]
    rec = found[1]
    assert rec.priority == "low"
    assert rec.evidence["cleared"] == "news2"
    assert back + det.persist_s <= rec.at <= back + det.persist_s + 2 * STEP
    assert rec.reason["en"] and rec.reason["zh-CN"]
    assert det.active("w-1") == ()


def test_sensor_off_during_an_episode_neither_clears_nor_repeats_it() -> None:
    det = VitalsDetector()
    off = with_(60, spo2=97, quality={"worn": False})
    readings = stream(normal(5) + with_(15, spo2=88) + off + with_(10, spo2=88) + normal(15))
    found = feed(det, "w-1", readings)
    assert [f.kind for f in found] == ["vitals", "vitals_recovered"]
    assert found[1].at > readings[-15]["ts"]  # cleared only by the normal readings at the end


def test_escalation_from_medium_to_high_adds_one_finding() -> None:
    det = VitalsDetector()
    sick = with_(15, spo2=88)
    worse = with_(15, spo2=88, hr=135, rr=26)  # 3 + 3 + 3 = 9
    found = feed(det, "w-1", stream(normal(5) + sick + worse))
    assert [(f.kind, f.priority) for f in found] == [("vitals", "medium"), ("vitals", "high")]
    high = found[1]
    assert high.evidence["news2"] == 9
    assert high.evidence["band"] == "high"
    assert "高风险" in high.reason["zh-CN"]
    assert "high risk" in high.reason["en"]


def test_aggregate_medium_without_a_single_three() -> None:
    det = VitalsDetector()
    found = feed(det, "w-1", stream(normal(5) + with_(15, hr=115, rr=22, temp=38.5)))
    assert len(found) == 1
    ev = found[0].evidence
    assert (ev["news2"], ev["band"]) == (5, "medium")
    assert (ev["score_hr"], ev["score_rr"], ev["score_temp"]) == (2, 2, 1)
    assert found[0].priority == "medium"


@pytest.mark.parametrize(
    ("changes", "parameter", "direction"),
    [
        ({"hr": 135}, "hr", "high"),  # tachycardia
        ({"hr": 38}, "hr", "low"),  # bradycardia
        ({"spo2": 90}, "spo2", "low"),  # hypoxia
        ({"temp": 34.8}, "temp", "low"),  # hypothermia
        ({"rr": 27}, "rr", "high"),
    ],
)
def test_conditions_are_recognisable_from_the_evidence(
    changes: dict[str, float], parameter: str, direction: str
) -> None:
    det = VitalsDetector(max_step={})
    found = feed(det, "w-1", stream(normal(5) + with_(15, **changes)))
    assert len(found) == 1
    ev = found[0].evidence
    assert (ev["parameter"], ev["direction"]) == (parameter, direction)
    assert ev["value"] == next(iter(changes.values()))


def test_fever_alone_scores_two_and_needs_a_limit() -> None:
    fever = stream(normal(5) + with_(15, temp=39.5))
    assert feed(VitalsDetector(), "w-1", fever) == []  # NEWS2 2: low risk
    det = VitalsDetector(default_clinical={"temp_high": 38.5})
    found = feed(det, "w-1", fever)
    assert len(found) == 1
    ev = found[0].evidence
    assert (ev["condition"], ev["parameter"], ev["direction"]) == ("temp_high", "temp", "high")
    assert found[0].reason["en"] == "High body temperature: 39.5 °C (above the set limit of 38.5)"
    assert found[0].reason["zh-CN"] == "体温持续偏高：39.5°C（超出设定上限 38.5）"


# --- clinician settings ------------------------------------------------------------------


@pytest.mark.parametrize(("hr", "expected"), [(100, 0), (100.4, 0), (100.5, 1), (101, 1)])
def test_clinician_high_limit_is_strict_at_chart_resolution(hr: float, expected: int) -> None:
    det = VitalsDetector()
    det.set_clinical("w-1", {"hr_high": 100})
    found = feed(det, "w-1", stream(normal(5) + with_(15, hr=hr)))
    assert len(found) == expected
    if expected:
        f = found[0]
        assert f.priority == det.threshold_priority
        assert (f.evidence["condition"], f.evidence["limit"]) == ("hr_high", 100.0)
        assert f.evidence["score_hr"] == 1
        assert "above the set limit of 100" in f.reason["en"]


@pytest.mark.parametrize(("spo2", "expected"), [(92, 0), (91, 1)])
def test_clinician_low_limit(spo2: float, expected: int) -> None:
    det = VitalsDetector()
    det.set_clinical("w-1", {"spo2_low": 92})
    found = feed(det, "w-1", stream(normal(5) + with_(15, spo2=spo2)))
    limit = [f for f in found if f.evidence["condition"] == "spo2_low"]
    assert len(limit) == expected
    # 91 % is also NEWS2 3: both conditions open, and one recovery once both are normal.
    if expected:
        assert len(found) == 2
        det2 = VitalsDetector()
        det2.set_clinical("w-1", {"spo2_low": 92})
        again = feed(det2, "w-1", stream(normal(5) + with_(15, spo2=spo2) + normal(15)))
        assert [f.kind for f in again].count("vitals_recovered") == 1


def test_spo2_scale2_resident() -> None:
    det = VitalsDetector()
    det.set_clinical("w-1", {"spo2_scale": 2})
    assert feed(det, "w-1", stream(normal(5) + with_(20, spo2=88))) == []
    assert feed(det, "w-1", stream(with_(20, spo2=85), t0=T0 + 3600)) == []  # scores 2: low
    found = feed(det, "w-1", stream(with_(20, spo2=83), t0=T0 + 7200))
    assert len(found) == 1
    assert found[0].evidence["spo2_scale"] == 2


def test_scale2_on_oxygen_flags_high_saturation() -> None:
    det = VitalsDetector()
    det.set_clinical("w-1", {"spo2_scale": 2, "on_oxygen": True})
    found = feed(det, "w-1", stream(with_(20, spo2=90) + with_(20, spo2=97)))
    assert len(found) == 1
    ev = found[0].evidence
    assert (ev["parameter"], ev["direction"], ev["news2"]) == ("spo2", "high", 5)
    assert ev["on_oxygen"] is True
    assert found[0].reason["zh-CN"].startswith("吸氧时血氧持续偏高")


def test_bad_clinical_settings_are_refused_and_the_old_ones_kept() -> None:
    det = VitalsDetector()
    det.set_clinical("w-1", {"spo2_scale": 2})
    bad_settings: list[dict[str, Any]] = [
        {"spo2_scale": 3},
        {"spo2_scale": True},
        {"on_oxygen": "yes"},
        {"hr_high": "120"},
        {"hr_high": math.nan},
        {"hr_low": 100, "hr_high": 90},
    ]
    for bad in bad_settings:
        with pytest.raises(ValueError, match="clinical"):
            det.set_clinical("w-1", bad)
    assert feed(det, "w-1", stream(with_(20, spo2=88))) == []  # still scale 2
    assert Clinical.parse({"other_detector_key": 1}) == Clinical()


def test_removing_a_limit_clears_its_episode() -> None:
    det = VitalsDetector()
    det.set_clinical("w-1", {"hr_high": 100})
    assert len(feed(det, "w-1", stream(with_(15, hr=105)))) == 1
    det.set_clinical("w-1", {})
    found = feed(det, "w-1", stream(with_(1, hr=105), t0=T0 + 15 * STEP))
    assert [f.kind for f in found] == ["vitals_recovered"]
    assert found[0].evidence["cleared"] == "hr_high"


# --- hostile input -----------------------------------------------------------------------


def test_hostile_readings_are_counted_never_raised() -> None:
    det = VitalsDetector()
    batch: list[object] = [
        {"ts": T0, "hr": math.nan, "spo2": 97},
        {"ts": T0 + 60},  # no values
        {"hr": 70},  # no ts
        {"ts": math.nan, "hr": 70},
        {"ts": "2026-01-01", "hr": 70},
        {"ts": T0 + 120, "hr": "70"},
        {"ts": T0 + 180, "quality": {"worn": "yes"}, "hr": 70},
        {"ts": T0 + 240, "hr": 999},  # impossible
        42,
    ]
    assert det.update("w-1", batch) == []
    assert det.dropped["malformed"] == 6
    assert det.gated["implausible"] == 1
    assert det.update("w-1", []) == []


def test_late_and_duplicate_readings_are_dropped() -> None:
    det = VitalsDetector()
    feed(det, "w-1", stream(normal(5)))
    det.update("w-1", [{"ts": T0 + 4 * STEP, **NORMAL}, {"ts": T0 + 2 * STEP, "hr": 150}])
    assert det.dropped["late"] == 4 + 1


def test_a_clock_jumping_back_restarts_persistence_without_a_duplicate() -> None:
    det = VitalsDetector(persist_n=3, persist_s=300)
    # The jump lands in the middle of the onset: the run must be rebuilt after it.
    before = stream(normal(5) + with_(4, spo2=88))
    after = stream(with_(3, spo2=88), t0=T0 - 86_400)
    assert feed(det, "w-1", before + after) == []
    assert det.dropped["clock_jump"] == 1
    found = feed(det, "w-1", stream(with_(10, spo2=88), t0=T0 - 86_400 + 3 * STEP))
    assert len(found) == 1
    # A second jump during the open episode does not repeat it.
    assert feed(det, "w-1", stream(with_(20, spo2=88), t0=T0 - 2 * 86_400)) == []


def test_a_gap_of_hours_breaks_the_run() -> None:
    det = VitalsDetector(persist_n=3, persist_s=120, max_step={})
    first = stream(with_(2, spo2=88))
    second = stream(with_(2, spo2=88), t0=T0 + 3 * 3600)
    assert feed(det, "w-1", first + second) == []
    assert len(feed(det, "w-1", stream(with_(2, spo2=88), t0=T0 + 3 * 3600 + 2 * STEP))) == 1


def test_sparse_parameters_persist_on_their_own_readings() -> None:
    # SpO2 spot-checked every 10 min between per-minute HR readings: the HR-only messages
    # neither confirm nor break the SpO2 run.
    det = VitalsDetector(persist_n=3, persist_s=600)
    readings = []
    for i in range(60):
        r: dict[str, Any] = {"ts": T0 + i * STEP, "hr": 72}
        if i % 10 == 0:
            r["spo2"] = 97 if i < 10 else 88
        readings.append(r)
    found = feed(det, "w-1", readings)
    assert len(found) == 1
    assert found[0].evidence["parameter"] == "spo2"
    assert found[0].at == T0 + 30 * STEP  # 88 at minutes 10, 20, 30: 3 readings, 20 min


def test_accepts_telemetry_models_and_reading_objects() -> None:
    msgs = [
        Telemetry.model_validate({"ts": T0 + i * STEP, "seq": i, "spo2": 88, "hr": 80,
                                  "quality": {"spo2": 0.9, "motion": False, "worn": True}})
        for i in range(10)
    ]  # fmt: skip
    det = VitalsDetector()
    assert len(det.update("w-1", msgs)) == 1
    r = as_reading(msgs[0])
    assert (r.spo2, r.spo2_quality, r.motion, r.worn) == (88.0, 0.9, False, True)
    det2 = VitalsDetector()
    objs = [VitalReading(T0 + i * STEP, spo2=88.0) for i in range(10)]
    assert [f.evidence["value"] for f in det2.update("w-1", objs)] == [88]


# --- streaming properties ------------------------------------------------------------------


def test_per_device_state_is_isolated() -> None:
    det = VitalsDetector()
    det.set_clinical("b", {"spo2_scale": 2})
    sick = stream(normal(5) + with_(20, spo2=88))
    found: list[Finding] = []
    for r in sick:  # interleaved: the other devices' messages do not break a run
        found += det.update("a", [r])
        found += det.update("b", [r])
        found += det.update("c", [{**r, **NORMAL}])
    assert [f.device_id for f in found] == ["a"]
    det.forget("a")
    assert det.devices == 2
    assert det.active("a") == ()
    assert det.active("b") == ()


def test_batches_give_the_same_findings_as_single_readings() -> None:
    readings = stream(
        normal(5) + with_(20, spo2=88) + with_(10, spo2=88, hr=135, rr=26) + normal(20)
    )
    one = feed(VitalsDetector(), "w-1", readings)
    det = VitalsDetector()
    batched: list[Finding] = []
    for i in range(0, len(readings), 7):
        batched += det.update("w-1", readings[i : i + 7])
    assert batched == one
    assert len(one) == 3


def _reference_confirmed(
    ts: np.ndarray, values: np.ndarray, n_min: int, span: float
) -> list[int | None]:
    """The persistence filter computed over the whole series at each step (no pruning)."""
    scores = news2.score_array("spo2", values)
    out: list[int | None] = []
    c: int | None = None
    for i in range(len(ts)):
        ok = np.flatnonzero((ts[: i + 1] <= ts[i] - span) & (np.arange(i + 1) <= i - n_min + 1))
        if len(ok):
            w = scores[ok[-1] : i + 1]
            cur = 0 if c is None else c
            c = int(w.min()) if w.min() > cur else (int(w.max()) if w.max() < cur else cur)
        out.append(c)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_streaming_persistence_equals_the_batch_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    ts = T0 + np.cumsum(rng.exponential(40, n).round() + 1)
    # Episodes of a few levels with noise, so windows are mixed often.
    levels = np.repeat(rng.choice([97, 95, 93, 90, 86], n // 20), 20)
    values = np.clip(levels + rng.integers(-2, 3, n), 50, 100).astype(float)
    det = VitalsDetector(persist_n=4, persist_s=240, max_step={}, max_gap_s=1e9)
    got = []
    for t, v in zip(ts, values, strict=True):
        det.update("w-1", [{"ts": float(t), "spo2": float(v)}])
        got.append(det.confirmed("w-1").get("spo2"))
    assert got == _reference_confirmed(ts, values, 4, 240)
    assert any(g not in (None, 0) for g in got)


def test_clinical_settings_of_silent_devices_cost_no_state() -> None:
    """The hub applies every registered device's settings at start; a device that never
    sends vitals must not carry ten parameters' windows (10,000 of them took ~60 MB)."""
    det = VitalsDetector()
    for i in range(100):
        det.set_clinical(f"d-{i}", {"spo2_scale": 2} if i % 2 else None)
    assert det.devices == 0
    det.update("d-1", [{"ts": T0, "spo2": 88.0}])
    assert det.devices == 1
    assert det._devices["d-1"].clinical.spo2_scale == 2  # kept aside until now
    det.forget("d-3")
    det.update("d-3", [{"ts": T0, "spo2": 88.0}])
    assert det._devices["d-3"].clinical.spo2_scale == 1  # forgotten with its settings
