"""The calibration's per-model recipes (:data:`training.calibrate_falls.RECIPES`), on
synthetic candidate features: daily-activity weighting and the trees each model gets."""

from __future__ import annotations

import numpy as np

from hub.detect.fall_features import FEATURE_NAMES
from hub.detect.fall_model import BoostedTrees
from hub.detect.falls import FallDetector
from training import calibrate_falls as cal
from training.datasets import Recording

HZ = 50.0


def _recording(i: int, subject: int, position: str, fall: bool) -> Recording:
    return Recording(
        dataset="synthetic",
        key=f"r{i}_{position}",
        subject=f"S{subject:02d}",
        group="unknown",
        age=None,
        activity="F01" if fall else "D01",
        is_fall=fall,
        position=position,
        hz=HZ,
        t=np.arange(500) / HZ,
        xyz_g=np.tile([0.0, 0.0, 1.0], (500, 1)),
    )


def _candidates(seed: int = 0) -> cal.Candidates:
    """Eight subjects, wrist and waist; per recording two candidates whose first feature
    (log_peak) is higher in falls."""
    rng = np.random.default_rng(seed)
    layout = [
        (s, pos, k % 2 == 0) for s in range(8) for pos in ("WRIST", "WAIST") for k in range(6)
    ]
    recs = [_recording(i, s, pos, fall) for i, (s, pos, fall) in enumerate(layout)]
    rec = np.repeat(np.arange(len(recs)), 2)
    fall = np.array([recs[i].is_fall for i in rec])
    feats = rng.normal(size=(len(rec), len(FEATURE_NAMES)))
    feats[:, 0] += 2.0 * fall
    return cal.Candidates(recs, rec, np.full(len(rec), 5.0), feats)


def test_daily_activities_weigh_negative_weight_times_the_falls() -> None:
    c = _candidates()
    for factor in (1.0, 3.0):
        _, y, w = cal.training_set(c, factor)
        assert np.isclose(w[y == 0].sum(), factor * w[y == 1].sum())


def test_each_model_is_grown_by_its_recipe() -> None:
    doc = cal.calibrate(_candidates())
    det = FallDetector.from_params(doc)
    depth = {m.name: m.model.depth for m in det.models if isinstance(m.model, BoostedTrees)}
    trees = {m.name: m.model.leaf.shape[0] for m in det.models if isinstance(m.model, BoostedTrees)}
    assert depth == {name: cal.RECIPES[name].depth for name in ("wrist", "trunk")}
    assert trees == {name: cal.RECIPES[name].n_trees for name in ("wrist", "trunk")}
    assert depth["wrist"] > depth["trunk"]
