"""The learned stage of the fall detector: small gradient-boosted trees, numpy only.

A :class:`BoostedTrees` model is a sum of ``T`` complete binary trees of depth ``d`` over
the window features (:data:`hub.detect.fall_features.FEATURE_NAMES`); the score is the
logistic of the sum, a probability-like number in [0, 1]. Trees are stored as arrays
(tree ``t``, node ``i``: children ``2i + 1`` (feature <= threshold) and ``2i + 2``), so
inference for ``N`` candidates is ``d`` vectorised steps over an ``(N, T)`` array, with no
interpreter loop per tree. Boosted trees capture interactions such as "a large turn *and*
stillness afterwards" and do not care about feature scales (Friedman, Annals of
Statistics 29(5), 2001). Training lives in :mod:`training.boosting`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class BoostedTrees:
    """``T`` complete trees of depth ``depth``: ``feature``/``threshold`` ``(T, 2^d - 1)``
    for the inner nodes, ``leaf`` ``(T, 2^d)`` values added to ``base`` (log-odds)."""

    depth: int
    base: float
    feature: NDArray[np.int64]
    threshold: F64
    leaf: F64
    n_features: int = field(default=0)

    def __post_init__(self) -> None:
        t = self.leaf.shape[0]
        inner, leaves = 2**self.depth - 1, 2**self.depth
        if self.feature.shape != (t, inner) or self.threshold.shape != (t, inner):
            raise ValueError("tree arrays do not match the depth")
        if self.leaf.shape != (t, leaves):
            raise ValueError("leaf array does not match the depth")
        if self.n_features and t and int(self.feature.max()) >= self.n_features:
            raise ValueError("a tree uses a feature the model does not have")

    def score(self, feats: F64) -> F64:
        """Probability-like score in [0, 1] per row of ``feats``."""
        n, t = feats.shape[0], self.leaf.shape[0]
        trees = np.arange(t)[None, :]
        node = np.zeros((n, t), dtype=np.int64)
        for _ in range(self.depth):
            f = self.feature[trees, node]
            right = np.take_along_axis(feats, f, axis=1) > self.threshold[trees, node]
            node = 2 * node + 1 + right
        logit = self.base + self.leaf[trees, node - (2**self.depth - 1)].sum(axis=1)
        out: F64 = 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))
        return out

    @property
    def n_parameters(self) -> int:
        """Stored numbers: a feature index and threshold per inner node, leaves, base."""
        return int(self.feature.size + self.threshold.size + self.leaf.size + 1)

    def to_json(self) -> dict[str, Any]:
        """The ``model`` part of the parameter file (without the feature names)."""
        return {
            "kind": "boosted_trees",
            "depth": self.depth,
            "base": self.base,
            "feature": self.feature.tolist(),
            "threshold": self.threshold.tolist(),
            "leaf": self.leaf.tolist(),
            "n_parameters": self.n_parameters,
        }

    @classmethod
    def from_json(cls, m: Mapping[str, Any], n_features: int) -> BoostedTrees:
        """Inverse of :meth:`to_json`."""
        return cls(
            int(m["depth"]),
            float(m["base"]),
            np.asarray(m["feature"], dtype=np.int64),
            np.asarray(m["threshold"], dtype=np.float64),
            np.asarray(m["leaf"], dtype=np.float64),
            n_features,
        )
