"""Boosted trees: training learns interactions, inference is the stored trees, files round-trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hub.detect.fall_model import BoostedTrees
from training.boosting import fit_boosted


def _xor(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 3))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.float64)  # feature 2 is noise
    return x, y


def test_learns_an_interaction_no_linear_model_can() -> None:
    x, y = _xor(2000, 0)
    model = fit_boosted(x, y, np.ones(len(y)), n_trees=40, depth=2)
    xt, yt = _xor(1000, 1)
    acc = ((model.score(xt) >= 0.5) == (yt == 1)).mean()
    assert acc > 0.9  # a linear score is at chance (0.5) on this problem
    assert set(np.unique(model.feature[np.isfinite(model.threshold)]).tolist()) <= {0, 1, 2}


def test_training_is_deterministic_and_weights_matter() -> None:
    x, y = _xor(500, 2)
    w = np.ones(len(y))
    a = fit_boosted(x, y, w, n_trees=10)
    b = fit_boosted(x, y, w, n_trees=10)
    assert np.array_equal(a.leaf, b.leaf) and np.array_equal(a.threshold, b.threshold)
    w2 = np.where(y == 1, 10.0, 1.0)
    assert fit_boosted(x, y, w2, n_trees=10).score(x).mean() > a.score(x).mean()


def test_round_trip_through_json() -> None:
    x, y = _xor(300, 3)
    model = fit_boosted(x, y, np.ones(len(y)), n_trees=5, depth=3)
    doc = json.loads(json.dumps(model.to_json()))
    again = BoostedTrees.from_json(doc, 3)
    assert np.array_equal(again.score(x), model.score(x))
    assert doc["n_parameters"] == model.n_parameters == 5 * (7 * 2 + 8) + 1


def test_inconsistent_trees_are_refused() -> None:
    feat = np.zeros((2, 3), dtype=np.int64)
    thr = np.zeros((2, 3))
    with pytest.raises(ValueError, match="depth"):
        BoostedTrees(3, 0.0, feat, thr, np.zeros((2, 8)))
    with pytest.raises(ValueError, match="feature"):
        BoostedTrees(2, 0.0, feat + 5, thr, np.zeros((2, 4)), n_features=3)


def test_empty_training_set_is_an_error() -> None:
    with pytest.raises(ValueError, match="no training"):
        fit_boosted(np.empty((0, 2)), np.empty(0), np.empty(0))
