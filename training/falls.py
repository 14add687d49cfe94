"""Evaluate the fall detector per recording, subject-independent, streaming at device rate.

A recording counts as detected when the detector raises a ``fall`` finding anywhere in it
(one label per recording, as the data sets are labelled). Latency runs from the impact (the
sample with the largest ``|a|`` of the fall recording) to the first fall alarm. False alarms
per hour are all fall alarms in daily-activity recordings over their total duration.

Without ``cv`` the shipped detector runs as it is. With ``cv = K`` subjects are split into
K groups (seeded); for each, the calibration (:mod:`training.calibrate_falls`) is rerun
on the other subjects (their recordings also at lower device rates, for training only) and
only the held-out subjects are scored, and the baselines' thresholds are fitted on the same
training subjects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hub.detect.falls import FallDetector
from training import baselines as bl
from training import calibrate_falls as cal
from training.datasets import Recording

T0 = 1_700_000_000.0
"""Epoch given to the first sample of every recording (any valid device time would do)."""

Tick = Callable[[int], None]
Alarms = list[list[float]]


def run_detector(det: FallDetector, recs: Sequence[Recording], tick: Tick | None = None) -> Alarms:
    """Fall-alarm times (s from the recording's start) per recording, one device each."""
    out: Alarms = []
    for r in recs:
        found = det.update(r.key, T0, r.hz, r.xyz_g)
        out.append([f.at - T0 for f in found if f.kind == "fall"])
        det.forget(r.key)
        if tick:
            tick(1)
    return out


def _nan_to_none(v: float | np.floating[Any]) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 4)


def metrics(recs: Sequence[Recording], alarms: Alarms) -> dict[str, Any]:
    """Sensitivity, specificity, false alarms/h and latency over the recordings."""
    falls = [i for i, r in enumerate(recs) if r.is_fall]
    adls = [i for i, r in enumerate(recs) if not r.is_fall]
    hit = [bool(alarms[i]) for i in falls]
    adl_alarms = sum(len(alarms[i]) for i in adls)
    hours = sum(recs[i].duration_s for i in adls) / 3600.0
    lat = []
    for i in falls:
        if alarms[i]:
            impact = int(np.argmax(bl.magnitude(recs[i]))) / recs[i].hz
            lat.append(alarms[i][0] - impact)
    lat_a = np.asarray(lat)
    return {
        "n_recordings": len(recs),
        "n_falls": len(falls),
        "n_adl": len(adls),
        "sensitivity": _nan_to_none(np.mean(hit) if hit else np.nan),
        "specificity": _nan_to_none(np.mean([not alarms[i] for i in adls]) if adls else np.nan),
        "false_alarms": adl_alarms,
        "adl_hours": round(hours, 3),
        "false_alarms_per_hour": _nan_to_none(adl_alarms / hours if hours > 0 else np.nan),
        "latency_median_s": _nan_to_none(np.median(lat_a) if len(lat_a) else np.nan),
        "latency_p90_s": _nan_to_none(np.percentile(lat_a, 90) if len(lat_a) else np.nan),
    }


def report(recs: Sequence[Recording], alarms: Alarms) -> dict[str, Any]:
    """:func:`metrics` overall and per age group."""
    out = metrics(recs, alarms)
    groups = sorted({r.group for r in recs})
    out["groups"] = {
        g: metrics(
            [r for r in recs if r.group == g],
            [a for r, a in zip(recs, alarms, strict=True) if r.group == g],
        )
        for g in groups
    }
    return out


def subject_folds(recs: Sequence[Recording], k: int, seed: int = 0) -> list[np.ndarray]:
    """Boolean test masks of K subject-grouped folds (subjects shuffled with ``seed``)."""
    subjects = sorted({(r.dataset, r.subject) for r in recs})
    if k < 2 or k > len(subjects):
        raise ValueError(f"--cv needs 2 <= K <= number of subjects ({len(subjects)})")
    order = np.random.default_rng(seed).permutation(len(subjects))
    fold_of = {subjects[j]: n % k for n, j in enumerate(order.tolist())}
    fold = np.array([fold_of[(r.dataset, r.subject)] for r in recs])
    return [fold == f for f in range(k)]


def evaluate(
    recs: Sequence[Recording],
    cv: int | None = None,
    seed: int = 0,
    tick: Tick | None = None,
) -> dict[str, Any]:
    """The full evaluation: our detector and both baselines, as the CLI reports it."""
    recs = list(recs)
    if not recs:
        raise ValueError("no recordings to evaluate")
    n = len(recs)
    ours: Alarms = [[] for _ in range(n)]
    peak: Alarms = [[] for _ in range(n)]
    c8: Alarms = [[] for _ in range(n)]
    thresholds: dict[str, list[float]] = {"threshold": [], "peak_g": [], "c8_g": []}
    peak_s = np.array([bl.peak_stat(r) for r in recs])
    c8_s = np.array([bl.c8_stat(r) for r in recs])
    is_fall = np.array([r.is_fall for r in recs])
    if cv:
        # Training folds also see their recordings at lower device rates (rate jitter).
        cands = cal.extract(recs, tick, augmented=True)
        who = [(r.dataset, r.subject) for r in cands.recordings]
        for test in subject_folds(recs, cv, seed):
            held_out = {
                (r.dataset, r.subject) for r, t in zip(recs, test.tolist(), strict=True) if t
            }
            train = np.array([s not in held_out for s in who])
            doc = cal.calibrate(cands.subset(train))
            det = FallDetector.from_params(doc)
            idx = np.flatnonzero(test)
            sub = run_detector(det, [recs[i] for i in idx], tick)
            p_thr = bl.fit_threshold(peak_s[~test], is_fall[~test])
            c_thr = bl.fit_threshold(c8_s[~test], is_fall[~test])
            for j, i in enumerate(idx.tolist()):
                ours[i] = sub[j]
                peak[i] = bl.peak_alarms(recs[i], p_thr)
                c8[i] = bl.c8_alarms(recs[i], c_thr)
            thresholds["threshold"].append(det.threshold)
            thresholds["peak_g"].append(p_thr)
            thresholds["c8_g"].append(c_thr)
    else:
        det = FallDetector.shipped()
        ours = run_detector(det, recs, tick)
        base = cal.shipped_baselines()
        p_thr = float(base.get("peak_g", cal.PEAK_BASELINE_G))
        c_thr = float(base["c8_g"])
        peak = [bl.peak_alarms(r, p_thr) for r in recs]
        c8 = [bl.c8_alarms(r, c_thr) for r in recs]
        thresholds = {"threshold": [det.threshold], "peak_g": [p_thr], "c8_g": [c_thr]}
    result = report(recs, ours)
    result["baselines"] = {
        "peak_threshold": {**report(recs, peak), "threshold_g": _summary(thresholds["peak_g"])},
        "c8_horizontal_std": {**report(recs, c8), "threshold_g": _summary(thresholds["c8_g"])},
    }
    result["protocol"] = {
        "cv_folds": cv or 0,
        "seed": seed,
        "mode": "subject-grouped cross-validation" if cv else "shipped parameters, nothing fitted",
        "detector_threshold": _summary(thresholds["threshold"]),
    }
    return result


def _summary(values: list[float]) -> float | list[float]:
    rounded = [round(float(v), 4) for v in values]
    return rounded[0] if len(rounded) == 1 else rounded
