"""Impact candidates and their orientation-agnostic window features, at the working rate.

Everything here works on binned signals (see :mod:`hub.detect.resample`): an array
``(D, T, 5)`` of per-bin mean x, y, z, mean ``|a|`` and max ``|a|`` in g. A bin ``k`` is an
impact candidate when its mean ``|a|`` reaches the trigger level and is the largest within
``sep`` bins before (strictly) and after it. The features of a candidate only use the
magnitude ``|a|`` and the angle between two mean acceleration vectors, so they do not
depend on how the sensor is mounted:

``log_peak``      log of the peak mean ``|a|`` (impact, g)
``pre_min``       lowest ``|a|`` in the second before the peak (free fall, g)
``descent``       integral of ``|a| - 1 g`` over the second before the peak (g·s; a fall
                  loses speed in the vertical direction)
``cos_turn``      cosine of the angle between the gravity direction before the fall and
                  after it (orientation change; 1 = unchanged)
``log_post_std``  log of the std of ``|a|`` after the impact (stillness)
``post_dev``      mean ``||a| - 1 g|`` after the impact (stillness)
``log_pre_std``   log of the std of ``|a|`` before the fall (activity before)
``post_norm``     length of the mean acceleration vector after the impact (1 g when still)
``impact``        integral of ``||a| - 1 g|`` over ±0.15 s around the peak (g·s)
``cos_fast``      like ``cos_turn`` but with the direction 0.15-0.5 s after the peak
``post_min``      lowest ``|a|`` in the 0.5 s after the peak (rebound, g)
``cos_settle``    cosine between the first and second half of the after window (settled)
``pre_dev``       mean ``||a| - 1 g|`` before the fall (activity before)
``v_drop``        most negative vertical speed in the second before the peak: the
                  acceleration along the gravity direction of the "before" window, minus
                  that gravity, integrated (g·s; the vertical velocity before an impact
                  separates falls from daily activities, Bourke et al., Medical
                  Engineering & Physics 30(7), 2008)
``still_frac``    fraction of the after window with ``||a| - 1 g| < 0.1 g`` (lying still)
``pre_max``       largest ``|a|`` of the "before" window (gait impacts: jogging, stairs)
``n_high``        bins of the whole window at or above 1.5 g (one impact or many)
``late_std``      log std of ``|a|`` over the last 0.5 s of the after window
``episode``       length of the high-acceleration episode: from the first to the last bin
                  within ``sep`` of the peak whose largest ``|a|`` reaches 2 g (s; a hand
                  hitting a table is one short spike, a fall a longer flurry)
``rot_pre``       rotation traversed in the second before the peak: the sum of the angles
                  between consecutive bins' mean vectors (rad; a forearm turns while the
                  body goes down)
``rot_post``      the same over the after window (a wrist that lies still does not turn)
``late_dev``      mean ``||a| - 1 g|`` over the last 0.75 s of the after window (stillness
                  once the impact has rung out)
``cos_long``      cosine between the gravity direction at the start of the window (more
                  than ``sep`` before the peak) and over the last 0.75 s (orientation
                  change from well before the fall to well after it)
``ff_min``        lowest 0.2-s mean of ``|a|`` in the second before the peak (pre-impact
                  free fall, g)
``log_max``       log of the largest single-sample ``|a|`` of the peak bin
``e_half``        integral of ``||a| - 1 g|`` over ±0.5 s around the peak (g·s)
``post_max``      largest single-sample ``|a|`` from 0.3 s after the peak (secondary impacts)

The first eighteen serve every position; the last nine were added for wrists, where a hand
impact (hitting a table, clapping), a small jump or dropping into a chair resembles a fall
more than at the waist. The choice follows the usual structure of fall detectors (impact,
orientation change, stillness: e.g. Bourke et al., Gait & Posture 26(2), 2007; Kangas et
al., Gait & Posture 28(2), 2008); the weights that combine them are learned (see
``fall_params.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
HIGH_G = 1.5
"""Level counted by ``n_high`` (the default trigger)."""
EPISODE_G = 2.0
"""Single-sample ``|a|`` that belongs to the high-acceleration ``episode``."""
LATE_S = 0.75
"""The end of the after window judged for stillness by ``late_dev`` and ``cos_long``."""
FREE_FALL_S = 0.2
"""Smoothing of ``|a|`` for ``ff_min``."""

FEATURE_NAMES: tuple[str, ...] = (
    "log_peak",
    "pre_min",
    "descent",
    "cos_turn",
    "log_post_std",
    "post_dev",
    "log_pre_std",
    "post_norm",
    "impact",
    "cos_fast",
    "post_min",
    "cos_settle",
    "pre_dev",
    "v_drop",
    "still_frac",
    "pre_max",
    "n_high",
    "late_std",
    "episode",
    "rot_pre",
    "rot_post",
    "late_dev",
    "cos_long",
    "ff_min",
    "log_max",
    "e_half",
    "post_max",
)


@dataclass(frozen=True, slots=True)
class Geometry:
    """Window layout around a candidate peak bin ``k``, in bins of the working rate.

    ``pre`` = (start, end) bins before ``k`` of the "before" orientation window,
    ``post`` = (start, end) bins after ``k`` of the "after" window (end inclusive: the
    decision is taken once bin ``k + post[1]`` is complete), ``sep`` = bins on each side
    in which the peak must be the largest.
    """

    working_hz: float
    pre: tuple[int, int]
    post: tuple[int, int]
    sep: int
    impact_half: int

    @classmethod
    def from_seconds(
        cls,
        working_hz: float,
        pre_s: tuple[float, float],
        post_s: tuple[float, float],
        sep_s: float,
        impact_half_s: float = 0.15,
    ) -> Geometry:
        """Convert a layout given in seconds to bins."""

        def b(s: float) -> int:
            return round(s * working_hz)

        geo = cls(
            working_hz,
            (b(pre_s[0]), b(pre_s[1])),
            (b(post_s[0]), b(post_s[1])),
            b(sep_s),
            b(impact_half_s),
        )
        if not (geo.pre[0] > geo.pre[1] >= 0 and 0 <= geo.post[0] < geo.post[1]):
            raise ValueError(f"bad window layout {geo}")
        if geo.sep > geo.post[1] or geo.sep > geo.pre[0] or geo.sep < 1:
            raise ValueError("sep must lie within both windows")
        return geo

    @property
    def history(self) -> int:
        """Bins kept per device so every candidate window is complete when decided."""
        return self.pre[0] + self.post[1]

    @property
    def delay(self) -> int:
        """Bins between a peak and its decision."""
        return self.post[1]


def _gather(binned: F64, d_idx: I64, k_idx: I64, lo: int, hi: int) -> F64:
    """Windows ``binned[d, k+lo : k+hi+1]`` for each candidate, shape ``(N, hi-lo+1, 5)``."""
    offsets = np.arange(lo, hi + 1, dtype=np.int64)
    out: F64 = binned[d_idx[:, None], k_idx[:, None] + offsets[None, :]]
    return out


def find_candidates(
    binned: F64, k_lo: int, k_hi: int, trigger_g: float, geo: Geometry
) -> tuple[I64, I64, F64]:
    """Candidate peaks with ``k_lo <= k < k_hi`` whose whole window lies in ``binned``.

    Returns device indices, bin indices and the candidate windows ``(N, pre+post+1, 5)``
    (bins ``k - pre[0]`` .. ``k + post[1]``). Windows with a missing bin are dropped.
    """
    k_lo = max(k_lo, geo.pre[0])
    k_hi = min(k_hi, binned.shape[1] - geo.post[1])
    empty = np.empty(0, dtype=np.int64)
    if k_hi <= k_lo:
        return empty, empty, np.empty((0, geo.history + 1, binned.shape[2]))
    with np.errstate(invalid="ignore"):
        hit = binned[:, k_lo:k_hi, 3] >= trigger_g
    d_idx, k_idx = np.nonzero(hit)
    k_idx = k_idx.astype(np.int64) + k_lo
    d_idx = d_idx.astype(np.int64)
    win = _gather(binned, d_idx, k_idx, -geo.pre[0], geo.post[1])
    c = geo.pre[0]
    mag = win[..., 3]
    with np.errstate(invalid="ignore"):
        before = mag[:, c - geo.sep : c].max(axis=1)
        after = mag[:, c + 1 : c + geo.sep + 1].max(axis=1)
        ok = (mag[:, c] > before) & (mag[:, c] >= after) & np.isfinite(win).all(axis=(1, 2))
    return d_idx[ok], k_idx[ok], win[ok]


def window_features(win: F64, geo: Geometry) -> F64:
    """Feature matrix ``(N, len(FEATURE_NAMES))`` of windows from :func:`find_candidates`."""
    c = geo.pre[0]
    dt = 1.0 / geo.working_hz
    mag = win[..., 3]
    pre = win[:, c - geo.pre[0] : c - geo.pre[1]]
    post = win[:, c + geo.post[0] : c + geo.post[1] + 1]
    g_pre = pre[..., :3].mean(axis=1)
    g_post = post[..., :3].mean(axis=1)
    n_pre = np.linalg.norm(g_pre, axis=1)
    n_post = np.linalg.norm(g_post, axis=1)
    cos_turn = np.einsum("ni,ni->n", g_pre, g_post) / np.maximum(n_pre * n_post, 1e-9)
    descent_win = mag[:, c - geo.sep : c]
    around = mag[:, c - geo.impact_half : c + geo.impact_half + 1]
    post_mag = post[..., 3]
    # Speed along the "before" gravity direction over the second up to the peak.
    up = g_pre / np.maximum(n_pre, 1e-9)[:, None]
    along = np.einsum("nti,ni->nt", win[:, c - geo.sep : c + 1, :3], up) - n_pre[:, None]
    v_drop = (np.cumsum(along, axis=1) * dt).min(axis=1)
    late = post_mag[:, -max(1, round(0.5 * geo.working_hz)) :]
    base = np.column_stack(
        [
            np.log(mag[:, c]),
            descent_win.min(axis=1),
            (descent_win - 1.0).sum(axis=1) * dt,
            np.clip(cos_turn, -1.0, 1.0),
            np.log(post_mag.std(axis=1) + 0.01),
            np.abs(post_mag - 1.0).mean(axis=1),
            np.log(pre[..., 3].std(axis=1) + 0.01),
            n_post,
            np.abs(around - 1.0).sum(axis=1) * dt,
            _cos(g_pre, win[:, c + 3 : c + geo.post[0] + 1, :3].mean(axis=1)),
            mag[:, c + 1 : c + geo.post[0] + 1].min(axis=1),
            _cos(
                post[:, : post.shape[1] // 2, :3].mean(axis=1),
                post[:, post.shape[1] // 2 :, :3].mean(axis=1),
            ),
            np.abs(pre[..., 3] - 1.0).mean(axis=1),
            v_drop,
            (np.abs(post_mag - 1.0) < 0.1).mean(axis=1),
            pre[..., 3].max(axis=1),
            (mag >= HIGH_G).sum(axis=1).astype(np.float64),
            np.log(late.std(axis=1) + 0.01),
        ]
    )
    return np.column_stack([base, _wrist_features(win, geo)])


def _wrist_features(win: F64, geo: Geometry) -> F64:
    """The nine features after ``late_std`` (see the module docstring)."""
    c, sep, end = geo.pre[0], geo.sep, geo.pre[0] + geo.post[1]
    hz = geo.working_hz
    dt = 1.0 / hz

    def bins(seconds: float) -> int:
        return max(1, round(seconds * hz))

    mag, top, vec = win[..., 3], win[..., 4], win[..., :3]
    # High-acceleration episode: first to last bin reaching EPISODE_G within sep of the peak.
    high = top[:, c - sep : c + sep + 1] >= EPISODE_G
    width = high.shape[1]
    first = np.argmax(high, axis=1)
    last = width - 1 - np.argmax(high[:, ::-1], axis=1)
    episode = np.where(high.any(axis=1), (last - first + 1) * dt, 0.0)
    # Angle between consecutive bins' mean vectors: turn[:, j] is from bin j to bin j + 1.
    turn = np.arccos(_cos(vec[:, 1:], vec[:, :-1]))
    rot_pre = turn[:, c - sep : c - 1].sum(axis=1)
    rot_post = turn[:, c + geo.post[0] : end].sum(axis=1)
    late_lo = max(c + geo.post[0], end + 1 - bins(LATE_S))
    late = win[:, late_lo : end + 1]
    late_dev = np.abs(late[..., 3] - 1.0).mean(axis=1)
    early = vec[:, : max(1, geo.pre[0] - sep)].mean(axis=1)
    cos_long = _cos(early, late[..., :3].mean(axis=1))
    # Free fall: lowest moving mean of |a| over FREE_FALL_S in the second before the peak.
    k = bins(FREE_FALL_S)
    before = mag[:, c - sep : c]
    csum = np.concatenate([np.zeros((len(win), 1)), np.cumsum(before, axis=1)], axis=1)
    ff_min = ((csum[:, k:] - csum[:, :-k]) / k).min(axis=1)
    half = bins(0.5)
    e_half = np.abs(mag[:, c - half : c + half + 1] - 1.0).sum(axis=1) * dt
    post_max = top[:, c + bins(0.3) : end + 1].max(axis=1)
    return np.column_stack(
        [episode, rot_pre, rot_post, late_dev, cos_long, ff_min, np.log(top[:, c]), e_half,
         post_max]
    )  # fmt: skip


def _cos(a: F64, b: F64) -> F64:
    """Cosine of the angle between vectors along the last axis (1 for a zero vector)."""
    den = np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
    out: F64 = np.clip(np.einsum("...i,...i->...", a, b) / den, -1.0, 1.0)
    return out


def angle_deg(win: F64, geo: Geometry) -> F64:
    """Orientation change of each candidate in degrees (for evidence and reasons)."""
    cos_turn = window_features(win, geo)[:, FEATURE_NAMES.index("cos_turn")]
    return np.degrees(np.arccos(cos_turn))


def expand(z: F64) -> F64:
    """Standardised features followed by all their pairwise products (``z_i z_j``, i <= j)."""
    iu, ju = np.triu_indices(z.shape[1])
    out: F64 = np.column_stack([z, z[:, iu] * z[:, ju]])
    return out


def n_expanded(n_features: int) -> int:
    """Length of :func:`expand`'s output for ``n_features`` inputs."""
    return n_features + n_features * (n_features + 1) // 2


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """The learned stage, numpy only: a logistic regression over quadratic features.

    ``p = sigmoid(w · expand((x - mean) / scale) + bias)``: the pairwise products let a
    linear model express "a turn *and* stillness" without trees or layers.
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def score(self, feats: F64) -> F64:
        """Probability-like score in [0, 1] per row of ``feats``."""
        z = (feats - np.asarray(self.mean)) / np.asarray(self.scale)
        logit = expand(z) @ np.asarray(self.weights) + self.bias
        out: F64 = 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))
        return out

    @property
    def n_parameters(self) -> int:
        """Number of stored numbers (weights, bias and the standardisation)."""
        return len(self.weights) + 1 + len(self.mean) + len(self.scale)
