"""Per-device stream state of the fall detector, for a whole fleet of devices at once.

:class:`Fleet` keeps, per device row, where its stream stands (anchor time, rate, samples
and bins so far, the open bin's accumulators) and a ring of its last bins (channel-major,
``(5, devices, history)``: bin ``j`` of a stream is at ``[:, row, j % history]``). One
:meth:`Fleet.advance` bins a chunk of devices' bursts (:mod:`hub.detect.resample`) and
returns only the devices that need more than binning: a bin reached the trigger recently
(a candidate may be decided now) or a fall of theirs is being followed. Everything else is
vectorised over the chunk; chunks of :data:`CHUNK` devices keep the scratch arrays in the
CPU caches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hub.detect.resample import (
    BIN_DTYPE,
    N_CH,
    Bins,
    Workspace,
    aggregate,
    aggregate_aligned,
    empty_partial,
    layout,
)

MAX_G = 32.0
"""Samples are clipped to +-32 g (the range of the widest common wearable sensors)."""
CHUNK = 1024
"""Devices processed together in one pass: the scratch arrays of a chunk stay in the CPU
caches, which makes a large fleet about twice as fast as one pass over all devices."""
NEVER = -(2**62)
"""Bin index meaning "no bin reached the trigger yet"."""


@dataclass(frozen=True, slots=True)
class Slow:
    """The devices of one chunk that need more than binning: their recent bins reached the
    trigger (``hot``), or a fall of theirs is being followed."""

    row: NDArray[np.int64]
    open: NDArray[np.int64]  # index of the first new bin
    done: NDArray[np.int64]  # new completed bins
    hot: NDArray[np.bool_]
    past: Bins  # (N, h, 5) bins before this burst
    new: Bins  # (N, W, 5) this burst's bins (NaN after `done`)


class Fleet:
    """Stream state and bin history of every device, by row (see the module docstring)."""

    def __init__(self, working_hz: float, history: int, delay: int, trigger_g: float) -> None:
        self.working_hz = working_hz
        self.history = history
        self.delay = delay
        self.trigger_g = trigger_g
        self.index: dict[str, int] = {}
        self.free: list[int] = []
        self.ids: list[str] = []
        self.work = Workspace()
        self.last_ids: tuple[list[str], NDArray[np.int64], slice | None] | None = None
        self.alloc(0)

    def alloc(self, cap: int) -> None:
        """Fresh state arrays for ``cap`` rows."""
        self.ring = self.history
        self.cap = cap
        self.hz = np.zeros(cap)
        self.anchor = np.zeros(cap)
        self.count = np.zeros(cap, dtype=np.int64)
        self.open = np.zeros(cap, dtype=np.int64)
        self.partial = empty_partial(cap)
        # Ring of the last bins, channel-major: bin j of a stream is at [:, row, j % ring].
        self.hist = np.full((N_CH, cap, self.ring), np.nan, dtype=BIN_DTYPE)
        # Last bin at or above the trigger: only such devices can have a candidate.
        self.hot = np.full(cap, NEVER, dtype=np.int64)
        self.following = np.zeros(cap, dtype=bool)
        self.live = np.zeros(cap, dtype=bool)

    def _arrays(self) -> tuple[NDArray[Any], ...]:
        return (self.hz, self.anchor, self.count, self.open, self.partial,
                self.hot, self.following, self.live)  # fmt: skip

    def grow(self, need: int) -> None:
        """Make room for at least ``need`` rows, keeping the state of the existing ones."""
        old, hist = self._arrays(), self.hist
        n = self.cap
        self.alloc(max(need, 2 * n, 16))
        for new, prev in zip(self._arrays(), old, strict=True):
            new[:n] = prev
        self.hist[:, :n] = hist

    def rows(self, device_ids: Sequence[str]) -> tuple[NDArray[np.int64], slice | None]:
        """State rows of the devices (new ones get a row), and the rows as a slice if they
        are consecutive. The last answer is reused when the same ids come again, so a
        fleet polled in one fixed order costs no per-device Python."""
        ids = list(device_ids)
        if self.last_ids is not None and ids == self.last_ids[0]:
            return self.last_ids[1], self.last_ids[2]
        rows = np.empty(len(ids), dtype=np.int64)
        for i, dev in enumerate(ids):
            row = self.index.get(dev)
            if row is None:
                if self.free:
                    row = self.free.pop()
                    self.ids[row] = dev
                else:
                    row = len(self.ids)
                    if row >= self.cap:
                        self.grow(row + 1)
                    self.ids.append(dev)
                self.index[dev] = row
                self.live[row] = False
            rows[i] = row
        if len(np.unique(rows)) != len(rows):
            raise ValueError("a device appears twice in one call")
        span = None
        if len(rows) and np.array_equal(rows, rows[0] + np.arange(len(rows))):
            span = slice(int(rows[0]), int(rows[0]) + len(rows))
        self.last_ids = (ids, rows, span)
        return rows, span

    def forget(self, device_id: str) -> int | None:
        """Drop a device's row (it is reused for the next new device); returns the row."""
        row = self.index.pop(device_id, None)
        if row is not None:
            self.live[row] = False
            self.following[row] = False
            self.free.append(row)
            self.last_ids = None
        return row

    def restart(self, rows: NDArray[np.int64], t0: NDArray[np.float64], hz: float) -> None:
        """Start the streams of ``rows`` afresh at ``t0`` (new device, gap, clock or rate)."""
        self.live[rows] = True
        self.hz[rows] = hz
        self.anchor[rows] = t0
        self.count[rows] = 0
        self.open[rows] = 0
        self.partial[rows] = empty_partial(len(rows))
        self.hist[:, rows] = np.nan
        self.hot[rows] = NEVER

    def bin(
        self, sel: slice | NDArray[np.int64], x: NDArray[np.float64], hz: float
    ) -> tuple[Bins, NDArray[np.int64], NDArray[np.float64]]:
        """New bins (channel-major ``(5, D, W)``), completed-bin counts and open-bin
        accumulators per device.

        Devices whose burst starts on a bin boundary, holds whole layout periods and is
        finite within ``MAX_G`` take :func:`aggregate_aligned` (no per-sample index work);
        the others the general :func:`aggregate` (clipping, NaN handling, open bins). Both
        give the same values.
        """
        count, open_old = self.count[sel], self.open[sel]
        n_dev, n = x.shape[0], x.shape[1]
        lay = layout(hz, self.working_hz)
        fast = np.zeros(n_dev, dtype=bool)
        b_fast = None
        if lay is not None and n % lay.samples == 0:
            b_fast, ok = aggregate_aligned(x, lay, MAX_G, self.work)
            fast = ok & (count % lay.samples == 0)
        if b_fast is not None and fast.all():
            done = np.full(n_dev, b_fast.shape[2], dtype=np.int64)
            return b_fast, done, empty_partial(n_dev)
        slow = np.flatnonzero(~fast)
        xs = np.clip(x[slow], -MAX_G, MAX_G)
        b_slow, d_slow, p_slow = aggregate(
            xs, count[slow], open_old[slow], self.partial[sel][slow], hz, self.working_hz
        )
        if b_fast is None or not fast.any():
            return b_slow.transpose(2, 0, 1), d_slow, p_slow
        width = max(b_fast.shape[2], b_slow.shape[1])
        bins = np.full((N_CH, n_dev, width), np.nan, dtype=BIN_DTYPE)
        bins[:, fast, : b_fast.shape[2]] = b_fast[:, fast]
        bins[:, slow, : b_slow.shape[1]] = b_slow.transpose(2, 0, 1)
        done = np.full(n_dev, b_fast.shape[2], dtype=np.int64)
        done[slow] = d_slow
        partial = empty_partial(n_dev)
        partial[slow] = p_slow
        return bins, done, partial

    def advance(
        self,
        rows: NDArray[np.int64],
        sel: slice | NDArray[np.int64],
        x: NDArray[np.float64],
        hz: float,
    ) -> list[Slow]:
        """Bin one chunk of devices and update their state; returns what the few devices
        that need more than binning (a recent trigger, an open fall) need later."""
        delay, h = self.delay, self.history
        open_old = self.open[sel].copy()  # a view when `sel` is a slice
        bins, n_done, partial = self.bin(sel, x, hz)
        width = bins.shape[2]
        with np.errstate(invalid="ignore"):
            hits = bins[3] >= self.trigger_g
        hit_dev = np.flatnonzero(hits.any(axis=1)) if hits.any() else np.empty(0, np.int64)
        if len(hit_dev):
            last = width - 1 - np.argmax(hits[hit_dev, ::-1], axis=1)
            self.hot[rows[hit_dev]] = open_old[hit_dev] + last
        # A candidate decided in this burst peaks at or after bin open_old - delay.
        hot = self.hot[sel] >= open_old - delay
        need = np.flatnonzero(hot | self.following[sel])
        slow: list[Slow] = []
        if len(need):
            # The history is read before this burst's bins overwrite the oldest of it.
            take = (open_old[need, None] - h + np.arange(h)[None, :]) % self.ring
            past = self.hist[:, rows[need, None], take].transpose(1, 2, 0)
            new = bins[:, need].transpose(1, 2, 0)
            slow = [Slow(rows[need], open_old[need], n_done[need], hot[need], past, new)]
        self.store(rows, sel, bins, n_done, open_old)
        self.count[sel] += x.shape[1]
        self.open[sel] = open_old + n_done
        self.partial[sel] = partial
        return slow

    def store(
        self,
        rows: NDArray[np.int64],
        sel: slice | NDArray[np.int64],
        bins: Bins,
        n_done: NDArray[np.int64],
        open_old: NDArray[np.int64],
    ) -> None:
        """Write each device's new bins (channel-major) into its ring (the last ``h`` count)."""
        h, ring = self.history, self.ring
        if len(rows) == 0:
            return
        w0, p0 = int(n_done[0]), int(open_old[0]) % ring
        if (
            isinstance(sel, slice)
            and w0 <= h
            and (n_done == w0).all()
            and (open_old % ring == p0).all()
        ):
            # Devices in step: two slice copies, no fancy indexing.
            first = min(w0, ring - p0)
            self.hist[:, sel, p0 : p0 + first] = bins[:, :, :first]
            self.hist[:, sel, : w0 - first] = bins[:, :, first:w0]
            return
        m = np.minimum(n_done, h)
        j = np.arange(min(bins.shape[2], h))
        valid = j[None, :] < m[:, None]
        dd, jj = np.nonzero(valid)
        src = n_done[dd] - m[dd] + jj
        self.hist[:, rows[dd], (open_old[dd] + src) % ring] = bins[:, dd, src]
