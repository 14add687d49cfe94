"""Causal block resampling of accelerometer bursts to the detector's working rate.

Samples are assigned to working-rate bins by their index since the stream's anchor:
sample ``n`` of a stream at ``hz`` falls in bin ``floor(n * F / hz)`` where ``F`` is the
working rate. A bin carries the mean of x, y, z (a box-car anti-alias filter, which keeps
the gravity direction), the mean of ``|a|`` and the maximum of ``|a|`` (which keeps a sharp
impact peak at high input rates). A bin is emitted once the next sample falls beyond it; the
partial bin is carried across bursts and its sums continue in stream order, so any split of
a stream into bursts gives the same bins, bit for bit. Non-finite samples contribute
nothing; a bin without a valid sample is NaN. Input must be at least the working rate (no
bin is ever left without samples by the rate alone).

All functions are vectorised over many devices that share one rate and burst length.
:func:`aggregate` handles any burst; :func:`aggregate_aligned` is the fast path for bursts
that start on a bin boundary and hold whole periods of the rate ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

CHANNELS = ("x", "y", "z", "mag", "mag_max")
"""Per-bin channels: mean x, y, z (g), mean |a| (g), max |a| (g)."""

N_CH = len(CHANNELS)
BIN_DTYPE = np.float32
"""Bins are rounded to single precision (7 digits, far below sensor noise) on every path,
so windows and history take half the memory; sums are accumulated in double precision."""
PARTIAL = 6
"""Partial-bin accumulator: sum x, sum y, sum z, sum |a|, max |a|, count."""

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Bins = NDArray[np.float32]
"""Binned signals (see :data:`BIN_DTYPE`)."""


def bin_of(n: I64, hz: float, working_hz: float) -> I64:
    """Working-rate bin of sample index ``n`` (exact for rates that divide evenly)."""
    out: I64 = np.floor((n * working_hz) / hz).astype(np.int64)
    return out


def magnitude(xyz: F64) -> F64:
    """``|a|`` per sample of ``(..., 3)`` finite samples.

    Written as separate IEEE operations, ``sqrt((x*x + y*y) + z*z)``, so every path (and
    a plain per-sample loop) computes the same bits.
    """
    sq = xyz[..., 0] * xyz[..., 0]
    sq += xyz[..., 1] * xyz[..., 1]
    sq += xyz[..., 2] * xyz[..., 2]
    out: F64 = np.sqrt(sq, out=sq)
    return out


@dataclass(frozen=True, slots=True)
class Layout:
    """The bin layout that repeats every ``samples`` input samples (``bins`` bins).

    Exists when the working rate over the input rate is a small exact fraction (e.g.
    20/50 = 2/5: samples 0-2 make bin 0, samples 3-4 bin 1). ``segments`` are the
    ``(start, end)`` samples of each bin within one period.
    """

    samples: int
    bins: int
    segments: tuple[tuple[int, int], ...]


@lru_cache(maxsize=64)
def layout(hz: float, working_hz: float) -> Layout | None:
    """The repeating layout for ``hz`` -> ``working_hz``, or ``None`` if the period is long."""
    ratio = Fraction(working_hz) / Fraction(hz)
    if ratio > 1 or ratio.denominator > 400:
        return None
    b, a = ratio.denominator, ratio.numerator
    of = bin_of(np.arange(b, dtype=np.int64), hz, working_hz)
    if of[-1] != a - 1 or int(bin_of(np.array([b], dtype=np.int64), hz, working_hz)[0]) != a:
        return None
    segs = tuple((int(np.searchsorted(of, i)), int(np.searchsorted(of, i, side="right")))
                 for i in range(a))  # fmt: skip
    return Layout(b, a, segs)


class Workspace:
    """Reusable scratch arrays by name and shape.

    Large temporaries freshly allocated on every burst cost more (page faults) than the
    arithmetic on them; a detector keeps one workspace and the fast path reuses it.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple[str, tuple[int, ...]], NDArray[Any]] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> NDArray[Any]:
        """An uninitialised array, the same one for the same name and shape."""
        key = (name, shape)
        arr = self._arrays.get(key)
        if arr is None or arr.dtype != dtype:
            for old in [k for k in self._arrays if k[0] == name]:
                del self._arrays[old]  # keep one shape per name
            arr = self._arrays[key] = np.empty(shape, dtype=dtype)
        return arr


def aggregate_aligned(
    samples: F64, lay: Layout, max_g: float, work: Workspace | None = None
) -> tuple[Bins, NDArray[np.bool_]]:
    """Bins of bursts that start on a bin boundary and hold whole periods of ``lay``.

    ``samples`` is ``(D, n, 3)`` with ``n`` a multiple of ``lay.samples``. Returns the bins
    *channel-major*, ``(5, D, n / samples * bins)``, and per device whether the burst was
    usable here: all samples finite with ``|a| <= max_g`` (so no axis needs clipping).
    For those devices the bins are the values :func:`aggregate` gives (same operations,
    sums accumulated in the same order) without its per-sample index arithmetic: the fast
    path for devices streaming in step. Other devices' bins are meaningless. With a
    ``work`` space the returned bins are scratch, valid until its next use.
    """
    work = work or Workspace()
    n_dev, n = samples.shape[0], samples.shape[1]
    periods = n // lay.samples
    v = work.get("v", (4, n_dev, n))
    # Channel-major, for long inner loops below (one flat strided copy: fastest).
    np.copyto(v.reshape(4, n_dev * n)[:3], samples.reshape(n_dev * n, 3).T)
    sq, tmp = work.get("sq", (n_dev, n)), work.get("tmp", (n_dev, n))
    np.multiply(v[0], v[0], out=sq)
    np.multiply(v[1], v[1], out=tmp)
    sq += tmp
    np.multiply(v[2], v[2], out=tmp)
    sq += tmp
    np.sqrt(sq, out=v[3])
    vs = v.reshape(4, n_dev, periods, lay.samples)
    out = work.get("bins", (N_CH, n_dev, periods, lay.bins), BIN_DTYPE)
    acc = work.get("acc", (4, n_dev, periods))
    for i, (s, e) in enumerate(lay.segments):
        if e - s == 1:
            out[:4, ..., i] = vs[..., s]
            out[4, ..., i] = vs[3, ..., s]
            continue
        np.add(vs[..., s], vs[..., s + 1], out=acc)
        np.maximum(vs[3, ..., s], vs[3, ..., s + 1], out=out[4, ..., i])
        for j in range(s + 2, e):
            acc += vs[..., j]
            np.maximum(out[4, ..., i], vs[3, ..., j], out=out[4, ..., i])
        np.divide(acc, float(e - s), out=out[:4, ..., i])
    flat = out.reshape(N_CH, n_dev, periods * lay.bins)
    # In double precision: NaN propagates and fails the test, as does any |a| > max_g. One
    # pass over the whole chunk first: per-device maxima only when something is off.
    all_ok = bool(v[3].max() <= max_g)
    ok: NDArray[np.bool_] = np.ones(n_dev, dtype=bool) if all_ok else v[3].max(axis=1) <= max_g
    return flat, ok


def aggregate(
    samples: F64, count: I64, open_bin: I64, partial: F64, hz: float, working_hz: float
) -> tuple[Bins, I64, F64]:
    """Fold a burst per device into completed working-rate bins.

    Parameters
    ----------
    samples:
        ``(D, n, 3)`` acceleration in g, ``n >= 1``.
    count:
        ``(D,)`` samples seen since each stream's anchor before this burst.
    open_bin:
        ``(D,)`` index of each stream's open (partial) bin.
    partial:
        ``(D, 6)`` accumulators of the open bin (see :data:`PARTIAL`).

    Returns
    -------
    bins, n_complete, new_partial:
        ``bins`` is ``(D, B, 5)`` with the completed bins of each device first and NaN
        padding after its ``n_complete[d]`` completed bins; ``new_partial`` the accumulators
        of the bin left open.
    """
    n_dev, n = samples.shape[0], samples.shape[1]
    idx = count[:, None] + np.arange(n, dtype=np.int64)[None, :]
    rel = bin_of(idx, hz, working_hz) - open_bin[:, None]
    n_complete = bin_of(count + n, hz, working_hz) - open_bin
    width = int(rel[:, -1].max()) + 1
    finite: NDArray[np.bool_] = np.asarray(np.isfinite(samples).all(axis=2))
    xyz = np.where(finite[..., None], samples, 0.0)
    mag = magnitude(xyz)
    flat = (np.arange(n_dev, dtype=np.int64)[:, None] * width + rel).ravel()
    size = n_dev * width
    # The open bin's accumulators go first, as if they were one more sample: each bin's sum
    # is then accumulated in stream order whatever the burst boundaries (bit for bit).
    first = np.arange(n_dev, dtype=np.int64) * width
    flat_p = np.concatenate([first, flat])
    sums = np.empty((size, 5))
    for ch in range(3):
        w = np.concatenate([partial[:, ch], xyz[..., ch].ravel()])
        sums[:, ch] = np.bincount(flat_p, weights=w, minlength=size)
    w = np.concatenate([partial[:, 3], mag.ravel()])
    sums[:, 3] = np.bincount(flat_p, weights=w, minlength=size)
    w = np.concatenate([partial[:, 5], finite.ravel().astype(np.float64)])
    sums[:, 4] = np.bincount(flat_p, weights=w, minlength=size)
    # flat is non-decreasing, so each bin is one contiguous run: reduceat gives its maximum.
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    peak = np.full(size, -np.inf)
    peak[flat[starts]] = np.maximum.reduceat(np.where(finite, mag, -np.inf).ravel(), starts)
    sums = sums.reshape(n_dev, width, 5)
    peak = peak.reshape(n_dev, width)
    peak[:, 0] = np.maximum(peak[:, 0], partial[:, 4])
    cnt = sums[..., 4]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums[..., :4] / cnt[..., None]
    bins = np.empty((n_dev, width, N_CH), dtype=BIN_DTYPE)
    bins[..., :4] = means
    bins[..., 4] = peak
    bins[cnt == 0] = np.nan
    bins[np.arange(width)[None, :] >= n_complete[:, None]] = np.nan
    # The open bin at the end of the burst (if samples reached it) becomes the new partial.
    open_col = np.minimum(n_complete, width - 1)
    rows = np.arange(n_dev)
    has_open = n_complete < width
    new_partial = np.zeros((n_dev, PARTIAL))
    new_partial[:, 4] = -np.inf
    new_partial[has_open, :4] = sums[rows, open_col, :4][has_open]
    new_partial[has_open, 4] = peak[rows, open_col][has_open]
    new_partial[has_open, 5] = cnt[rows, open_col][has_open]
    return bins, n_complete, new_partial


def empty_partial(n_dev: int) -> F64:
    """Accumulators of a freshly opened bin."""
    out = np.zeros((n_dev, PARTIAL))
    out[:, 4] = -np.inf
    return out
