"""Causal block resampling of accelerometer bursts to the detector's working rate.

Samples are assigned to working-rate bins by their index since the stream's anchor:
sample ``n`` of a stream at ``hz`` falls in bin ``floor(n * F / hz)`` where ``F`` is the
working rate. A bin carries the mean of x, y, z (a box-car anti-alias filter, which keeps
the gravity direction), the mean of ``|a|`` and the maximum of ``|a|`` (which keeps a sharp
impact peak at high input rates). A bin is emitted once the next sample falls beyond it; the
partial bin is carried across bursts, so any split of a stream into bursts gives the same
bins, bit for bit. Non-finite samples contribute nothing; a bin without a valid sample is
NaN. Input must be at least the working rate (no bin is ever left without samples by the
rate alone).

All functions are vectorised over many devices that share one rate and burst length.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

CHANNELS = ("x", "y", "z", "mag", "mag_max")
"""Per-bin channels: mean x, y, z (g), mean |a| (g), max |a| (g)."""

N_CH = len(CHANNELS)
PARTIAL = 6
"""Partial-bin accumulator: sum x, sum y, sum z, sum |a|, max |a|, count."""

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def bin_of(n: I64, hz: float, working_hz: float) -> I64:
    """Working-rate bin of sample index ``n`` (exact for rates that divide evenly)."""
    out: I64 = np.floor((n * working_hz) / hz).astype(np.int64)
    return out


def aggregate(
    samples: F64, count: I64, open_bin: I64, partial: F64, hz: float, working_hz: float
) -> tuple[F64, I64, F64]:
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
    mag = np.sqrt(np.einsum("dni,dni->dn", xyz, xyz))
    flat = (np.arange(n_dev, dtype=np.int64)[:, None] * width + rel).ravel()
    size = n_dev * width
    sums = np.empty((size, 5))
    for ch in range(3):
        sums[:, ch] = np.bincount(flat, weights=xyz[..., ch].ravel(), minlength=size)
    sums[:, 3] = np.bincount(flat, weights=mag.ravel(), minlength=size)
    sums[:, 4] = np.bincount(flat, weights=finite.ravel().astype(np.float64), minlength=size)
    # flat is non-decreasing, so each bin is one contiguous run: reduceat gives its maximum.
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    peak = np.full(size, -np.inf)
    peak[flat[starts]] = np.maximum.reduceat(np.where(finite, mag, -np.inf).ravel(), starts)
    sums = sums.reshape(n_dev, width, 5)
    peak = peak.reshape(n_dev, width)
    sums[:, 0, :4] += partial[:, :4]
    sums[:, 0, 4] += partial[:, 5]
    peak[:, 0] = np.maximum(peak[:, 0], partial[:, 4])
    cnt = sums[..., 4]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums[..., :4] / cnt[..., None]
    bins = np.empty((n_dev, width, N_CH))
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
