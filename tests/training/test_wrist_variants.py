"""The wrist-variant evaluation (:mod:`training.wrist_variants`) on synthetic signals:
what the late look and the context see, and how early and late alarms are counted."""

from __future__ import annotations

import numpy as np
import pytest

from hub.detect.fall_features import FEATURE_NAMES
from training import calibrate_falls as cal
from training import wrist_features as wf
from training import wrist_variants as wv
from training.datasets import Recording

HZ = 50.0


def _bins(after: np.ndarray, n_before: int = 60) -> np.ndarray:
    """Bins (T, 5): upright and still, a 4 g impact at bin ``n_before``, then ``after``
    (mean x, y, z per bin)."""
    up = np.tile([0.0, 0.0, 1.0], (n_before, 1))
    vec = np.vstack([up, [[0.0, 0.0, 4.0]], after])
    mag = np.linalg.norm(vec, axis=1)
    return np.column_stack([vec, mag, mag])


def test_late_look_tells_lying_still_from_moving_on() -> None:
    k, n = 60, 140
    lying = _bins(np.tile([1.0, 0.0, 0.0], (n, 1)))
    rng = np.random.default_rng(0)
    walking = _bins(np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0.0, 0.3, (n, 3)))
    still = wf.late_features(lying, k, 6.0)
    moving = wf.late_features(walking, k, 6.0)
    assert still is not None
    assert moving is not None
    log_std, dev, still_share = 0, 1, 2
    assert still[log_std] < moving[log_std]
    assert still[dev] < 0.01 < moving[dev]
    assert still[still_share] == 1.0
    assert moving[still_share] < 0.5
    cos_pre_late = 4
    assert still[cos_pre_late] == pytest.approx(0.0, abs=1e-9)  # turned by 90 degrees
    assert moving[cos_pre_late] > 0.9
    # A recording that ends before the late look has no late features.
    assert wf.late_features(lying, k, 8.0) is None


def test_context_needs_half_a_second_and_reads_stillness() -> None:
    b = _bins(np.tile([0.0, 0.0, 1.0], (40, 1)), n_before=60)
    f = wf.context_features(b, 60, 8.5)
    assert f[0] == pytest.approx(0.0, abs=1e-12)  # no deviation from 1 g
    assert f[5] == 1.0  # every bin still
    assert f[6] == pytest.approx(1.0)  # same orientation before and after
    assert (wf.context_features(b, 35, 8.5) == -9.0).all()  # only 5 bins of context


def _candidates() -> cal.Candidates:
    def rec(i: int, fall: bool) -> Recording:
        return Recording("synthetic", f"r{i}", "S01", "unknown", None, "A", fall, "WRIST", HZ,
                         np.arange(1000) / HZ, np.zeros((1000, 3)))  # fmt: skip

    recs = [rec(0, True), rec(1, True), rec(2, False), rec(3, False)]
    return cal.Candidates(
        recs, np.array([0, 1, 2, 3]), np.zeros(4), np.zeros((4, 1)), np.zeros(4, dtype=bool)
    )


def test_doubtful_candidates_alarm_late_and_count_as_late() -> None:
    c = _candidates()
    s1 = np.array([0.95, 0.6, 0.7, 0.1])
    s2 = np.array([0.0, 0.9, 0.2, 0.99])
    has_late = np.ones(4, dtype=bool)
    out = wv.decide(s1, s2, has_late, thr1=0.9, low=0.5, thr2=0.8)
    assert out.early.tolist() == [True, False, False, False]
    # r1 is doubtful and its late look says fall; r3 scores high late but was never doubtful.
    assert out.late.tolist() == [False, True, False, False]
    f = wv.figures(c, out)
    assert f["sensitivity"] == 1.0
    assert f["specificity"] == 1.0
    assert f["late"] == 1
    assert f["detected"] == 2
    # Without the data for a late look, the doubtful fall is missed.
    missing = wv.decide(s1, s2, np.array([True, False, True, True]), 0.9, 0.5, 0.8)
    assert wv.figures(c, missing)["sensitivity"] == 0.5
    # Grid and single evaluation agree.
    sens, spec, fah, det, late = wv._grid(c, s1, s2, has_late, 0.9, 0.5, np.array([0.8, 0.1]))
    assert sens.tolist() == [1.0, 1.0]
    assert spec.tolist() == [1.0, 0.5]
    assert det.tolist() == [2.0, 2.0]
    assert late.tolist() == [1.0, 1.0]
    assert fah[1] == pytest.approx(1 / (2 * 20.0 / 3600.0))
    # Ranking: the threshold where daily activities raise 3/h (here: above the best one).
    assert wv.ranking(c, s1) == 0.5


def test_sequence_shows_the_window_and_ignores_the_mounting() -> None:
    k = 60
    fallen = _bins(np.tile([1.0, 0.0, 0.0], (60, 1)), n_before=k)
    seq = wf.sequence_features(fallen, k, pool=1).reshape(len(wf.SEQUENCE_CHANNELS), -1)
    mean, cos_before, cos_after = 0, 2, 3
    assert seq.shape[1] == 30 + 35 + 1
    assert seq[mean, 30] == pytest.approx(4.0)  # the impact bin sits 1.5 s in
    assert seq[cos_before, :30] == pytest.approx(1.0)  # upright before: along gravity
    assert seq[cos_before, -1] == pytest.approx(0.0)  # lying after: at right angles to it
    assert seq[cos_after, -1] == pytest.approx(1.0)
    # Turning the sensor (another mounting) changes none of it.
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]) @ np.array(
        [[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]
    )
    turned = fallen.copy()
    turned[:, :3] = fallen[:, :3] @ rot.T
    assert wf.sequence_features(turned, k) == pytest.approx(wf.sequence_features(fallen, k))
    # A candidate near the start repeats the first bin instead of failing.
    early = wf.sequence_features(fallen, 10)
    assert np.isfinite(early).all()
    assert early.shape == wf.sequence_features(fallen, k).shape


def test_cnn_trains_on_the_candidates_the_calibration_keeps() -> None:
    """The network's training rows are the calibration's: every daily-activity candidate
    and the largest impact of each fall, with the same labels and relative weights."""
    from training import wrist_cnn

    base = _candidates()
    rec = np.array([0, 0, 1, 2, 2, 3, 1])
    feats = np.zeros((len(rec), len(FEATURE_NAMES)))
    feats[:, FEATURE_NAMES.index("log_peak")] = [1.0, 2.0, 1.5, 0.3, 0.4, 0.2, 1.6]
    c = cal.Candidates(base.recordings, rec, np.zeros(len(rec)), feats, base.augmented)
    idx = np.arange(len(rec))
    keep = wrist_cnn._kept(c, idx)
    assert keep.tolist() == [False, True, False, True, True, True, True]
    y, w = wrist_cnn.labels_and_weights(c, idx)
    _, y_cal, w_cal = cal.training_set(c, cal.RECIPES["wrist"].negative_weight)
    assert y.tolist() == y_cal.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert w == pytest.approx(w_cal / w_cal.mean())
