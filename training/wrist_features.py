"""Features of the wrist-model variants (:mod:`training.wrist_variants`), on binned signals.

A recording's bins are the detector's (:mod:`hub.detect.resample`, 20 per second: mean x,
y, z, mean and max ``|a|`` in g); ``k`` is a candidate's peak bin. :func:`late_features`
describe what followed the peak up to a late second look; :func:`context_features` how
the device moved in the seconds before the candidate window. Like the detector's window
features they use only magnitudes and angles between two vectors of the same sensor, so
the mounting does not matter.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hub.detect.fall_fleet import MAX_G
from hub.detect.resample import aggregate, empty_partial
from training.datasets import Recording

F64 = NDArray[np.float64]
HZ = 20.0
"""The detector's working rate (bins per second)."""
PRE = (30, 10)
"""The "before" orientation window, bins before the peak (as the detector's 1.5-0.5 s)."""
DECIDE = 35
"""Bins from the peak to the early decision (1.75 s)."""


def binned(r: Recording) -> F64:
    """The recording's bins at the working rate, ``(T, 5)``, as the detector makes them."""
    x = np.clip(np.asarray(r.xyz_g, dtype=np.float64), -MAX_G, MAX_G)[None]
    zero = np.zeros(1, dtype=np.int64)
    b, _, _ = aggregate(x, zero, zero, empty_partial(1), r.hz, HZ)
    return np.asarray(b[0], dtype=np.float64)


def _cos(a: F64, b: F64) -> float:
    den = max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-9)
    return float(np.clip(a @ b / den, -1.0, 1.0))


def _rotation(v: F64) -> float:
    """Sum of the angles between consecutive mean vectors (rad)."""
    num = np.einsum("ti,ti->t", v[1:], v[:-1])
    den = np.maximum(np.linalg.norm(v[1:], axis=1) * np.linalg.norm(v[:-1], axis=1), 1e-9)
    return float(np.arccos(np.clip(num / den, -1.0, 1.0)).sum())


def late_features(b: F64, k: int, late_s: float) -> F64 | None:
    """What followed the peak bin ``k``, from the early decision to ``late_s`` after the
    peak (``None`` when the recording ends before): stillness (log std, mean ||a|-1 g|,
    share of still and of moving bins, the most and least active second, the longest
    still run), the largest sample, the rotation traversed, and the resting orientation
    against the one before the fall and the one just after it."""
    end = k + round(HZ * late_s)
    if end >= len(b) or k < PRE[0]:
        return None
    w = b[k + DECIDE + 1 : end + 1]
    mag = w[:, 3]
    dev = np.abs(mag - 1.0)
    g_pre = b[k - PRE[0] : k - PRE[1], :3].mean(0)
    g_post = b[k + 10 : k + DECIDE + 1, :3].mean(0)
    last = b[end - 19 : end + 1, :3].mean(0)
    n = len(mag) // 20
    per_s = mag[: n * 20].reshape(n, 20).std(1)
    run = best = 0
    for still in (dev < 0.08).tolist():
        run = run + 1 if still else 0
        best = max(best, run)
    return np.array(
        [np.log(mag.std() + 0.01), dev.mean(), (dev < 0.05).mean(), float(w[:, 4].max()),
         _cos(g_pre, w[:, :3].mean(0)), _cos(g_post, w[:, :3].mean(0)), _rotation(w[:, :3]),
         (dev > 0.2).mean(), float(np.abs(b[end - 19 : end + 1, 3] - 1.0).mean()),
         _cos(g_pre, last), np.log(per_s.max() + 0.01), np.log(per_s.min() + 0.01),
         best / HZ, _cos(g_post, last)]
    )  # fmt: skip


def context_features(b: F64, k: int, context_s: float) -> F64:
    """How the device moved in the ``context_s`` seconds before the candidate window
    (what is recorded of them): mean ||a|-1 g|, log std, share of bins >= 1.5 g, the
    largest sample, rotation per second, share of still bins, and the mean orientation
    then against the one after the peak. ``-9`` everywhere with less than 0.5 s."""
    w = b[max(0, k - round(HZ * context_s)) : k - PRE[0]]
    if len(w) < 10:
        return np.full(7, -9.0)
    mag = w[:, 3]
    g_post = b[k + 10 : k + DECIDE + 1, :3].mean(0)
    return np.array(
        [np.abs(mag - 1.0).mean(), np.log(mag.std() + 0.01), (mag >= 1.5).mean(),
         float(w[:, 4].max()), _rotation(w[:, :3]) / len(w) * HZ,
         (np.abs(mag - 1.0) < 0.05).mean(), _cos(w[:, :3].mean(0), g_post)]
    )  # fmt: skip


SEQUENCE_CHANNELS = ("mean", "max", "cos_before", "cos_after")
"""Per bin of :func:`sequence_features`: mean and largest ``|a|``, and the cosine of the
bin's mean vector against the gravity direction before the candidate and after it."""


def _unit(v: F64) -> F64:
    norm: F64 = np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)
    return v / norm


def sequence_features(b: F64, k: int, pool: int = 2) -> F64:
    """The detector's whole candidate window around the peak bin ``k`` (1.5 s before to
    1.75 s after), as the sequence of :data:`SEQUENCE_CHANNELS` averaged over ``pool``
    bins, channel after channel: the raw shape of the event for a learner to weigh,
    instead of summaries of it. A window that starts before the recording repeats its
    first bin."""
    lo = k - PRE[0]
    w = b[max(lo, 0) : k + DECIDE + 1]
    if lo < 0:
        w = np.vstack([np.repeat(w[:1], -lo, axis=0), w])
    u = _unit(w[:, :3])
    g_pre = _unit(w[: PRE[0] - PRE[1], :3].mean(0))
    g_post = _unit(w[-15:, :3].mean(0))
    x = np.stack([w[:, 3], w[:, 4], u @ g_pre, u @ g_post])
    n = x.shape[1] // pool * pool
    pooled: F64 = x[:, :n].reshape(len(x), -1, pool).mean(2)
    return pooled.ravel()
