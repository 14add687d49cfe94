"""Evaluate the fall detector per recording, subject-independent, streaming at device rate.

A recording counts as detected when the detector raises a ``fall`` finding anywhere in it
(one label per recording, as the data sets are labelled). Latency runs from the impact (the
sample with the largest ``|a|`` of the fall recording) to the first fall alarm. False alarms
per hour are all fall alarms in daily-activity recordings over their total duration.

Every recording is streamed as a device worn where the recording was made
(:meth:`hub.detect.falls.FallDetector.set_position`), so it is scored by the model of its
position. Without ``cv`` the shipped detector runs as it is. With ``cv = K`` subjects are
split into K groups (seeded); for each, the calibration (:mod:`training.calibrate_falls`)
is rerun on the other subjects (their recordings also at lower device rates, for training
only) and only the held-out subjects are scored, and the baselines' thresholds are fitted
on the same training subjects. With ``train_on`` (other data sets' candidates, see
:func:`training.calibrate_falls.load_candidates`) the calibration runs once on those and
every recording evaluated is held out: the cross-data-set protocol.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
        det.set_position(r.key, r.position.lower())
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


@dataclass
class _Run:
    """Alarms of our detector and both baselines per recording, and the thresholds used."""

    ours: Alarms
    peak: Alarms
    c8: Alarms
    thresholds: dict[str, list[float]] = field(
        default_factory=lambda: {"threshold": [], "peak_g": [], "c8_g": []}
    )
    by_model: dict[str, list[float]] = field(default_factory=dict)
    scored_by: Counter[str] = field(default_factory=Counter)

    def record(
        self, det: FallDetector, p_thr: float, c_thr: float, scored: Sequence[Recording]
    ) -> None:
        """Thresholds of one calibration, and which of its models scored ``scored``."""
        self.scored_by.update(det.model_of(r.key) for r in scored)
        self.thresholds["threshold"].append(det.threshold)
        self.thresholds["peak_g"].append(p_thr)
        self.thresholds["c8_g"].append(c_thr)
        for m in det.models:
            self.by_model.setdefault(m.name, []).append(m.threshold)


def _cross_validate(recs: list[Recording], cv: int, seed: int, tick: Tick | None) -> _Run:
    n = len(recs)
    run = _Run([[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)])
    peak_s = np.array([bl.peak_stat(r) for r in recs])
    c8_s = np.array([bl.c8_stat(r) for r in recs])
    is_fall = np.array([r.is_fall for r in recs])
    # Training folds also see their recordings at lower device rates (rate jitter).
    cands = cal.extract(recs, tick, augmented=True)
    who = [(r.dataset, r.subject) for r in cands.recordings]
    for test in subject_folds(recs, cv, seed):
        held_out = {(r.dataset, r.subject) for r, t in zip(recs, test.tolist(), strict=True) if t}
        train = np.array([s not in held_out for s in who])
        det = FallDetector.from_params(cal.calibrate(cands.subset(train)))
        idx = np.flatnonzero(test)
        sub = run_detector(det, [recs[i] for i in idx], tick)
        p_thr = bl.fit_threshold(peak_s[~test], is_fall[~test])
        c_thr = bl.fit_threshold(c8_s[~test], is_fall[~test])
        for j, i in enumerate(idx.tolist()):
            run.ours[i] = sub[j]
            run.peak[i] = bl.peak_alarms(recs[i], p_thr)
            run.c8[i] = bl.c8_alarms(recs[i], c_thr)
        run.record(det, p_thr, c_thr, [recs[i] for i in idx])
    return run


def _cross_data_set(recs: list[Recording], train_on: cal.Candidates, tick: Tick | None) -> _Run:
    trained = {(r.dataset, r.subject) for r in train_on.recordings}
    if trained & {(r.dataset, r.subject) for r in recs}:
        raise ValueError("the training and the test data share subjects")
    det = FallDetector.from_params(cal.calibrate(train_on))
    originals = train_on.originals().recordings
    falls = np.array([r.is_fall for r in originals])
    p_thr = bl.fit_threshold(np.array([bl.peak_stat(r) for r in originals]), falls)
    c_thr = bl.fit_threshold(np.array([bl.c8_stat(r) for r in originals]), falls)
    run = _Run(
        run_detector(det, recs, tick),
        [bl.peak_alarms(r, p_thr) for r in recs],
        [bl.c8_alarms(r, c_thr) for r in recs],
    )
    run.record(det, p_thr, c_thr, recs)
    return run


def _shipped(recs: list[Recording], tick: Tick | None) -> _Run:
    det = FallDetector.shipped()
    base = cal.shipped_baselines()
    p_thr = float(base.get("peak_g", cal.PEAK_BASELINE_G))
    c_thr = float(base["c8_g"])
    run = _Run(
        run_detector(det, recs, tick),
        [bl.peak_alarms(r, p_thr) for r in recs],
        [bl.c8_alarms(r, c_thr) for r in recs],
    )
    run.record(det, p_thr, c_thr, recs)
    return run


def evaluate(
    recs: Sequence[Recording],
    cv: int | None = None,
    seed: int = 0,
    tick: Tick | None = None,
    train_on: cal.Candidates | None = None,
) -> dict[str, Any]:
    """The full evaluation: our detector and both baselines, as the CLI reports it.

    Protocols: the shipped detector (default), ``cv`` subject-grouped folds, or
    ``train_on`` other data sets (cross-data-set).
    """
    recs = list(recs)
    if not recs:
        raise ValueError("no recordings to evaluate")
    if cv and train_on is not None:
        raise ValueError("--cv and --train-on are two protocols: give one")
    if cv:
        run, mode = _cross_validate(recs, cv, seed, tick), "subject-grouped cross-validation"
    elif train_on is not None:
        run = _cross_data_set(recs, train_on, tick)
        mode = "cross-data-set: trained on other data sets only"
    else:
        run, mode = _shipped(recs, tick), "shipped parameters, nothing fitted"
    result = report(recs, run.ours)
    th = run.thresholds
    result["baselines"] = {
        "peak_threshold": {**report(recs, run.peak), "threshold_g": _summary(th["peak_g"])},
        "c8_horizontal_std": {**report(recs, run.c8), "threshold_g": _summary(th["c8_g"])},
    }
    result["protocol"] = {
        "cv_folds": cv or 0,
        "seed": seed,
        "mode": mode,
        "detector_threshold": _summary(th["threshold"]),
        "model_thresholds": {name: _summary(v) for name, v in run.by_model.items()},
        "recordings_by_model": dict(sorted(run.scored_by.items())),
    }
    if train_on is not None:
        result["protocol"]["trained_on"] = sorted(
            {f"{r.dataset}/{r.position.lower()}" for r in train_on.recordings}
        )
        result["protocol"]["training_rates_hz"] = sorted({r.hz for r in train_on.recordings})
    return result


def _summary(values: list[float]) -> float | list[float]:
    rounded = [round(float(v), 4) for v in values]
    return rounded[0] if len(rounded) == 1 else rounded
