"""Fall-detector throughput: 10,000 simulated devices sending 1-s bursts at 50 Hz.

Measures samples per second on one core for the vectorised path
(:meth:`hub.detect.falls.FallDetector.update_many`) and for a per-sample Python loop of the
same algorithm (same bins, same candidate rule, same scoring), run in the same process, and
merges ``detect_samples_per_s`` and ``detect_vs_loop`` into ``bench/results.json``.

Both paths are timed in alternating rounds and the best round of each counts (the machine
is shared). Run: ``python -m bench.detect`` (about half a minute).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import deque
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from rich.console import Console
from rich.table import Table

from hub.detect.fall_features import window_features
from hub.detect.fall_fleet import MAX_G
from hub.detect.falls import FallDetector

HZ = 50.0
DEVICES = 10_000
SECONDS = 6
LOOP_DEVICES = 40
ROUNDS = 5
RESULTS = Path(__file__).with_name("results.json")
T0 = 1_700_000_000.0


def simulate(n_dev: int, seconds: int, seed: int = 0) -> np.ndarray:
    """Residents: gravity in a random sensor orientation, noise, a third of them walking."""
    rng = np.random.default_rng(seed)
    n = int(seconds * HZ)
    up = rng.normal(size=(n_dev, 3))
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    t = np.arange(n) / HZ
    walk = (
        (rng.random(n_dev) < 1 / 3)[:, None]
        * 0.3
        * np.sin(4 * np.pi * t + rng.random((n_dev, 1)) * 6)
    )
    x = up[:, None, :] * (1.0 + walk[..., None]) + rng.normal(0, 0.02, (n_dev, n, 3))
    # A few hard knocks so candidates are scored too.
    knock = rng.random(n_dev) < 0.02
    x[knock, n // 2] += 2.5 * up[knock]
    return x


class LoopDevice:
    """The same algorithm as the detector, one sample at a time in plain Python.

    Per burst: the stream-continuity check. Per sample: clipping, the bin rule
    ``floor(n * F / hz)``, ``|a|``, the bin accumulators. Per completed bin: the window
    bookkeeping (a ring of the last bins), the trigger check, and for a bin that reached
    the trigger ``delay`` bins ago the local-maximum rule and the learned score on its
    window. It is written to be fast (no work for quiet bins beyond the trigger check),
    so the ratio against it is honest. Its bins stay Python floats (the vectorised path
    stores them in single precision, which saves memory traffic, not arithmetic: rounding
    them here would only make the loop slower).
    """

    def __init__(self, det: FallDetector) -> None:
        self.det = det
        self.geo = det.geometry
        self.h = self.geo.history
        self.hist: deque[tuple[float, float, float, float, float]] = deque(maxlen=self.h + 1)
        self.count = 0
        self.open = 0
        self.c = self.geo.pre[0]
        self.next_t = math.nan
        self.acc = [0.0, 0.0, 0.0, 0.0, -math.inf, 0.0]
        self.alarms = 0

    def burst(self, t0: float, hz: float, samples: list[list[float]]) -> None:
        if not abs(t0 - self.next_t) <= self.det.max_jitter_s:
            self.__init__(self.det)  # type: ignore[misc]  # restart the stream
            self.start = t0
        wz, push = self.det.working_hz, self.push
        for x, y, z in samples:
            b = math.floor(self.count * wz / hz)
            while b > self.open:
                self._close()
            push(x, y, z)
        self.next_t = self.start + self.count / hz

    def push(self, x: float, y: float, z: float) -> None:
        self.count += 1
        if x - x == 0.0 and y - y == 0.0 and z - z == 0.0:  # finite
            x = -MAX_G if x < -MAX_G else (MAX_G if x > MAX_G else x)
            y = -MAX_G if y < -MAX_G else (MAX_G if y > MAX_G else y)
            z = -MAX_G if z < -MAX_G else (MAX_G if z > MAX_G else z)
            m = math.sqrt(x * x + y * y + z * z)
            a = self.acc
            a[0] += x
            a[1] += y
            a[2] += z
            a[3] += m
            if m > a[4]:
                a[4] = m
            a[5] += 1

    def _close(self) -> None:
        a = self.acc
        n = a[5]
        row = (a[0] / n, a[1] / n, a[2] / n, a[3] / n, a[4]) if n else (math.nan,) * 5
        self.hist.append(row)
        self.open += 1
        self.acc = [0.0, 0.0, 0.0, 0.0, -math.inf, 0.0]
        # The bin `delay` bins back is the candidate peak decided now.
        if len(self.hist) > self.h and self.hist[self.c][3] >= self.det.trigger_g:
            self._candidate()

    def _candidate(self) -> None:
        c, s = self.c, self.geo.sep
        mags = [r[3] for r in self.hist]
        peak = mags[c]
        if peak > max(mags[c - s : c]) and peak >= max(mags[c + 1 : c + s + 1]):
            win = np.array(self.hist)[None]
            if np.isfinite(win).all() and self.open - 1 >= self.grace_bins():
                score = self.det.model.score(window_features(win, self.geo))[0]
                self.alarms += int(score >= self.det.threshold)

    def grace_bins(self) -> int:
        return round(self.det.grace_period * self.det.working_hz) - 1


def main() -> None:
    det = FallDetector.shipped()
    data = simulate(DEVICES, SECONDS)
    ids = [f"dev-{i:05d}" for i in range(DEVICES)]
    per = int(HZ)
    # One (D, n, 3) array per second, as a batch of received bursts would arrive.
    batches = [np.ascontiguousarray(data[:, s * per : (s + 1) * per]) for s in range(SECONDS)]
    bursts = [[data[d, s * per : (s + 1) * per].tolist() for s in range(SECONDS)]
              for d in range(LOOP_DEVICES)]  # fmt: skip
    det.update_many(ids, np.full(DEVICES, T0), HZ, batches[0])  # allocate state
    alarms, vec_best, loop_best, t = 0, math.inf, math.inf, T0
    # The machine is shared: both paths are timed in alternating rounds and the best round
    # of each counts (as timeit does), so a burst of load elsewhere does not decide.
    for _ in range(ROUNDS):
        start = time.process_time()
        for s in range(1, SECONDS):
            t += 1.0
            alarms += len(det.update_many(ids, np.full(DEVICES, t), HZ, batches[s]))
        vec_best = min(vec_best, time.process_time() - start)
        loops = [LoopDevice(det) for _ in range(LOOP_DEVICES)]
        start = time.process_time()
        for d, dev in enumerate(loops):
            for s in range(SECONDS):
                dev.burst(T0 + s, HZ, bursts[d][s])
        loop_best = min(loop_best, time.process_time() - start)
    vec_rate = DEVICES * (SECONDS - 1) * per / vec_best
    loop_rate = LOOP_DEVICES * SECONDS * per / loop_best

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["detect_samples_per_s"] = round(vec_rate)
    results["detect_vs_loop"] = round(vec_rate / loop_rate, 1)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")

    table = Table(title=f"Fall detector, {DEVICES:,} devices, 1-s bursts at {HZ:g} Hz")
    table.add_column("path")
    table.add_column("samples/s per core", justify="right")
    table.add_row("vectorised (update_many)", f"{vec_rate:,.0f}")
    table.add_row("per-sample Python loop", f"{loop_rate:,.0f}")
    table.add_row("ratio", f"{vec_rate / loop_rate:,.1f}×")
    Console().print(table)
    print(f"alarms raised during the run (simulated, no falls): {alarms}")
    print(f"best of {ROUNDS} alternating rounds for each path")


if __name__ == "__main__":
    main()
