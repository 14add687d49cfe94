"""Fit :class:`hub.detect.fall_model.BoostedTrees`: gradient boosting of the log-loss.

Deterministic (no sampling): every tree is a complete tree of depth ``depth`` grown level
by level on the gradients and hessians of the weighted log-loss (Newton boosting,
Friedman, Annals of Statistics 29(5), 2001; Chen & Guestrin, KDD 2016). Split candidates
are the feature's quantiles on the training set (``n_bins`` per feature), gains use an
L2 penalty ``l2`` on leaf values, and each tree's values are shrunk by ``learning_rate``.
A node that cannot be split usefully gets an infinite threshold (everything goes left).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from hub.detect.fall_model import BoostedTrees

F64 = NDArray[np.float64]

N_TREES = 150
DEPTH = 3
LEARNING_RATE = 0.1
N_BINS = 32
L2 = 1.0
MIN_HESSIAN = 1e-3


def fit_boosted(
    x: F64,
    y: F64,
    w: F64,
    *,
    n_trees: int = N_TREES,
    depth: int = DEPTH,
    learning_rate: float = LEARNING_RATE,
    n_bins: int = N_BINS,
    l2: float = L2,
) -> BoostedTrees:
    """Boosted trees for labels ``y`` (0/1) with sample weights ``w``."""
    n, n_feat = x.shape
    if n == 0:
        raise ValueError("no training samples")
    qs = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    edges = [np.unique(np.quantile(x[:, f], qs)) for f in range(n_feat)]
    # code[i, f] = number of edges below x[i, f]: "x <= edges[k]" is "code <= k".
    code = np.column_stack([np.searchsorted(edges[f], x[:, f], side="left") for f in range(n_feat)])
    ws = w / w.sum() * n
    p0 = float(np.clip((ws * y).sum() / ws.sum(), 1e-6, 1 - 1e-6))
    base = float(np.log(p0 / (1 - p0)))
    logit = np.full(n, base)
    inner, leaves = 2**depth - 1, 2**depth
    feature = np.zeros((n_trees, inner), dtype=np.int64)
    threshold = np.full((n_trees, inner), np.inf)
    leaf = np.zeros((n_trees, leaves))
    for t in range(n_trees):
        p = expit(logit)
        g, h = ws * (p - y), ws * p * (1 - p)
        node = np.zeros(n, dtype=np.int64)
        for nid in range(inner):
            mine = np.flatnonzero(node == nid)
            f, k = _best_split(code[mine], g[mine], h[mine], edges, l2)
            if f >= 0:
                feature[t, nid], threshold[t, nid] = f, edges[f][k]
            right = x[mine, feature[t, nid]] > threshold[t, nid]
            node[mine] = 2 * nid + 1 + right
        lf = node - inner
        gl = np.bincount(lf, weights=g, minlength=leaves)
        hl = np.bincount(lf, weights=h, minlength=leaves)
        leaf[t] = -learning_rate * gl / (hl + l2)
        logit += leaf[t][lf]
    return BoostedTrees(depth, base, feature, threshold, leaf, n_feat)


def _best_split(
    code: NDArray[np.int64], g: F64, h: F64, edges: list[F64], l2: float
) -> tuple[int, int]:
    """Feature and edge index of the best split of one node, ``(-1, -1)`` if none helps."""
    if len(g) < 2:
        return -1, -1
    big_g, big_h = g.sum(), h.sum()
    parent = big_g**2 / (big_h + l2)
    best, best_f, best_k = 1e-12, -1, -1
    for f, e in enumerate(edges):
        nb = len(e) + 1
        gl = np.cumsum(np.bincount(code[:, f], weights=g, minlength=nb))[:-1]
        hl = np.cumsum(np.bincount(code[:, f], weights=h, minlength=nb))[:-1]
        gr, hr = big_g - gl, big_h - hl
        ok = (hl > MIN_HESSIAN) & (hr > MIN_HESSIAN)
        if not ok.any():
            continue
        gain = np.where(ok, gl**2 / (hl + l2) + gr**2 / (hr + l2) - parent, -np.inf)
        k = int(np.argmax(gain))
        if gain[k] > best:
            best, best_f, best_k = float(gain[k]), f, k
    return best_f, best_k
