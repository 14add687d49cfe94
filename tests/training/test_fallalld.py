"""FallAllD (Saleh et al., IEEE Sensors Journal 21(2), 2021) and the position models on real
recordings: the reader, streaming against batch, hostile input, and the calibration
procedure judged on subjects it never saw.

The data sets are read from ``$CAREHUB_FALL_DATA`` (default ``../shared/data``); without
them these tests skip and say why, except under ``CI=true``, where they must run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.detect.fall_features import find_candidates, window_features
from hub.detect.fall_model import BoostedTrees
from hub.detect.falls import FallDetector
from hub.detect.resample import BIN_DTYPE, bin_of
from training import calibrate_falls as cal
from training.datasets import DATA_ENV, Recording, iter_recordings, load
from training.falls import metrics, run_detector, subject_folds

T0 = 1_700_000_000.0
GOALS = {"sensitivity": 0.90, "specificity": 0.97, "false_alarms_per_hour": 3.0, "p90_s": 2.0}
"""The wrist goals on recordings never trained on (docs/fall-detection.md)."""


def data_set(name: str) -> Path:
    root = Path(os.environ.get(DATA_ENV, "../shared/data")) / name
    if not (root / "manifest.csv").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DATA_ENV} does not point at the fall data ({name} is needed in CI)")
        pytest.skip(f"{name} not found under ${DATA_ENV} (default ../shared/data)")
    return root


@pytest.fixture(scope="module")
def fallalld() -> list[Recording]:
    return load(data_set("fallalld"), 50.0)


def test_reader_shape_rate_labels_and_subjects(fallalld: list[Recording]) -> None:
    recs = fallalld
    assert len(recs) == 2515
    assert sum(r.is_fall for r in recs) == 523
    assert len({r.subject for r in recs}) == 13
    assert len({r.subject for r in recs if r.is_fall}) == 9
    assert {r.position for r in recs} == {"WRIST"}
    assert all(r.activity.startswith("A1") == r.is_fall for r in recs)
    # 20-s windows at the device rate asked for; gravity at rest is 1 g (the scale).
    assert {r.xyz_g.shape for r in recs} == {(1000, 3)}
    assert {r.hz for r in recs} == {50.0}
    adl = np.concatenate([np.linalg.norm(r.xyz_g, axis=1) for r in recs[:200] if not r.is_fall])
    assert np.median(adl) == pytest.approx(1.0, abs=0.05)
    # The impact is in the middle of a fall's window, and reaches several g at the wrist.
    peaks = [np.argmax(np.linalg.norm(r.xyz_g, axis=1)) / r.hz for r in recs if r.is_fall]
    assert np.median(peaks) == pytest.approx(10.0, abs=0.2)
    native = next(iter_recordings(data_set("fallalld"), 238.0))
    assert native.xyz_g.shape == (4760, 3)
    assert native.duration_s == pytest.approx(20.0)


class Recorder(BoostedTrees):
    """The shipped wrist trees, keeping every feature row they are asked to score."""

    rows: list[np.ndarray]

    def score(self, feats: np.ndarray) -> np.ndarray:
        self.rows.append(feats.copy())
        return super().score(feats)


def _recording_detector() -> tuple[FallDetector, Recorder]:
    det = FallDetector.shipped()
    wrist = det.models[0].model
    assert isinstance(wrist, BoostedTrees)
    rec = Recorder(wrist.depth, wrist.base, wrist.feature, wrist.threshold, wrist.leaf,
                   wrist.n_features)  # fmt: skip
    rec.rows = []
    params = dict(cal.DETECTOR_PARAMS)
    params["pre_s"], params["post_s"] = tuple(params["pre_s"]), tuple(params["post_s"])
    return FallDetector(rec, det.threshold, **params), rec


def _batch_features(x: np.ndarray, hz: float, det: FallDetector) -> np.ndarray:
    """Bins of the whole recording by plain numpy (mean and max per bin), then the windows."""
    n_bins = int(bin_of(np.array([len(x)]), hz, det.working_hz)[0])
    b = bin_of(np.arange(len(x)), hz, det.working_hz)
    keep = b < n_bins
    b, xs = b[keep], x[keep]
    mag = np.linalg.norm(xs, axis=1)
    count = np.bincount(b, minlength=n_bins)
    bins = np.empty((n_bins, 5))
    for ch, values in enumerate([xs[:, 0], xs[:, 1], xs[:, 2], mag]):
        bins[:, ch] = np.bincount(b, weights=values, minlength=n_bins) / count
    bins[:, 4] = -np.inf
    np.maximum.at(bins[:, 4], b, mag)
    geo = det.geometry
    joined = np.concatenate([np.full((geo.history, 5), np.nan), bins.astype(BIN_DTYPE)])[None]
    h = geo.history
    _, k, win = find_candidates(joined.astype(np.float64), h - geo.delay, h + n_bins - geo.delay,
                                det.trigger_g, geo)  # fmt: skip
    decided = k + geo.delay - h >= round(det.grace_period * det.working_hz) - 1
    return window_features(win[decided], geo)


def test_streaming_equals_the_batch_computation_on_recordings(fallalld: list[Recording]) -> None:
    rng = np.random.default_rng(0)
    falls = [r for r in fallalld if r.is_fall][:6]
    adls = [r for r in fallalld if not r.is_fall][:6]
    for r in falls + adls:
        det, rec = _recording_detector()
        i = 0
        while i < len(r.xyz_g):  # bursts of random length, as devices send them
            n = int(rng.integers(1, 120))
            det.update("d", T0 + i / r.hz, r.hz, r.xyz_g[i : i + n])
            i += n
        streamed = np.vstack(rec.rows) if rec.rows else np.empty((0, 27))
        batch = _batch_features(r.xyz_g, r.hz, det)
        assert streamed.shape == batch.shape, r.key
        assert len(batch) or not r.is_fall  # a fall always has candidates to compare
        # Bins are summed in another order here, so equal to rounding only.
        np.testing.assert_allclose(streamed, batch, rtol=1e-5, atol=1e-5, err_msg=r.key)
        _, whole = det.candidates(r.hz, r.xyz_g)
        np.testing.assert_array_equal(streamed, whole, err_msg=r.key)


def test_hostile_input_on_a_real_fall(fallalld: list[Recording]) -> None:
    """NaN and infinite samples, a gap and a clock that jumps back, on a recording the shipped
    wrist model detects: never a crash; damage away from the fall changes nothing, damage
    over the fall blocks the alarm rather than raising a wrong one."""
    det = FallDetector.shipped()
    fall = next(r for r in fallalld if r.is_fall and run_detector(det, [r])[0])
    x, hz = fall.xyz_g.copy(), fall.hz
    clean = [f.at for f in det.update("a", T0, hz, x) if f.kind == "fall"]
    impact = int(np.argmax(np.linalg.norm(x, axis=1)))
    dirty = x.copy()
    dirty[50:90] = np.nan  # early, far from the windows of the fall
    dirty[120, 2] = np.inf
    assert [f.at for f in det.update("b", T0, hz, dirty) if f.kind == "fall"] == clean
    over = x.copy()
    over[impact - 5 : impact + 5] = np.nan
    assert [f for f in det.update("c", T0, hz, over) if f.kind == "fall"] == []
    # A gap of 2 s just before the impact: the windows restart and the fall cannot be
    # confirmed; a clock that jumps back mid-fall does the same.
    cut = impact - int(0.5 * hz)
    det.update("e", T0, hz, x[:cut])
    assert det.update("e", T0 + cut / hz + 2.0, hz, x[cut:]) == []
    det.update("f", T0, hz, x[:cut])
    assert det.update("f", T0 - 60.0, hz, x[cut:]) == []
    # The same stream later, uninterrupted, is detected again.
    again = det.update("f", T0 + 3600.0, hz, x)
    assert [f.at - 3600.0 for f in again if f.kind == "fall"] == pytest.approx(clean)


def _held_out(
    recs: Sequence[Recording], augmented: bool, seed: int = 0
) -> tuple[dict[str, Any], FallDetector]:
    """The calibration procedure run on the subjects of three folds (``augmented``: their
    recordings also at the lower calibration rates, as ``--cv`` does), and the detector it
    gives judged on the subjects of the fourth."""
    test = subject_folds(recs, 4, seed)[0]
    train = [r for r, t in zip(recs, test.tolist(), strict=True) if not t]
    det = FallDetector.from_params(cal.calibrate(cal.extract(train, augmented=augmented)))
    held = [r for r, t in zip(recs, test.tolist(), strict=True) if t]
    return metrics(held, run_detector(det, held)), det


@pytest.fixture(scope="module")
def wrist_held_out(fallalld: list[Recording]) -> dict[str, Any]:
    uma = load(data_set("umafall"), 20.0, "wrist")
    out, det = _held_out([*fallalld, *uma], augmented=True)
    assert [m.name for m in det.models] == ["wrist"]
    return out


@pytest.mark.slow
def test_wrist_model_on_held_out_subjects(wrist_held_out: dict[str, Any]) -> None:
    """What the procedure reaches on wrists of people it never saw (regression floor; the
    goal is the next test)."""
    m = wrist_held_out
    assert m["n_falls"] > 100
    assert m["sensitivity"] >= 0.65
    assert m["specificity"] >= 0.97
    assert m["false_alarms_per_hour"] <= 4.0
    assert m["latency_p90_s"] <= GOALS["p90_s"]


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="the wrist goal (90 % sensitivity at 97 % specificity and 3 false alarms/h on "
    "people never seen) is not reached: 81.6 % at 98.5 % specificity and 2.7 false alarms/h "
    "on FallAllD under --cv 5 (docs/fall-detection.md, Results)",
)
def test_wrist_goal_on_held_out_subjects(wrist_held_out: dict[str, Any]) -> None:
    m = wrist_held_out
    assert m["sensitivity"] >= GOALS["sensitivity"]
    assert m["specificity"] >= GOALS["specificity"]
    assert m["false_alarms_per_hour"] <= GOALS["false_alarms_per_hour"]


@pytest.mark.slow
def test_trunk_model_on_held_out_subjects() -> None:
    """SisFall's waist goals (98 % / 98 % / p90 2 s) on the held-out quarter of its
    subjects. False alarms: at most 1/h is the goal, met on average over all subjects
    (five folds: about 1.0/h), not in every quarter (this one: 1.8/h), hence 2/h here."""
    recs = load(data_set("sisfall"), 50.0)
    out, det = _held_out(recs, augmented=False)
    assert [m.name for m in det.models] == ["trunk"]
    assert out["n_falls"] > 400
    assert out["sensitivity"] >= 0.98
    assert out["specificity"] >= 0.98
    assert out["false_alarms_per_hour"] <= 2.0
    assert out["latency_p90_s"] <= GOALS["p90_s"]
