"""Fall-detector throughput: 10,000 simulated devices sending 1-s bursts at 50 Hz.

Measures samples per second on one core for the vectorised path
(:meth:`hub.detect.falls.FallDetector.update_many`) and for a per-sample Python loop of the
same algorithm (same bins, same candidate rule, same scoring), run in the same process, and
merges ``detect_samples_per_s`` and ``detect_vs_loop`` into ``bench/results.json``.

Run: ``python bench/detect.py`` (about half a minute).
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
from hub.detect.falls import FallDetector

HZ = 50.0
DEVICES = 10_000
SECONDS = 6
LOOP_DEVICES = 40
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
    """The same algorithm as the detector, one sample at a time in plain Python."""

    def __init__(self, det: FallDetector) -> None:
        self.det = det
        self.geo = det.geometry
        self.hist: deque[list[float]] = deque(maxlen=self.geo.history + 1)
        self.count = 0
        self.open = 0
        self.acc = [0.0, 0.0, 0.0, 0.0, -math.inf, 0.0]
        self.alarms = 0

    def push(self, x: float, y: float, z: float, hz: float) -> None:
        b = math.floor(self.count * self.det.working_hz / hz)
        while b > self.open:
            self._close()
        self.count += 1
        if x == x and y == y and z == z:
            m = math.sqrt(x * x + y * y + z * z)
            a = self.acc
            a[0] += x
            a[1] += y
            a[2] += z
            a[3] += m
            a[4] = max(a[4], m)
            a[5] += 1

    def _close(self) -> None:
        a = self.acc
        n = a[5]
        row = [a[0] / n, a[1] / n, a[2] / n, a[3] / n, a[4]] if n else [math.nan] * 5
        self.hist.append(row)
        self.open += 1
        self.acc = [0.0, 0.0, 0.0, 0.0, -math.inf, 0.0]
        if len(self.hist) <= self.geo.history:
            return
        c = self.geo.pre[0]
        mags = [r[3] for r in self.hist]
        peak = mags[c]
        if not peak >= self.det.trigger_g:
            return
        s = self.geo.sep
        if peak > max(mags[c - s : c]) and peak >= max(mags[c + 1 : c + s + 1]):
            win = np.array(self.hist)[None]
            if np.isfinite(win).all():
                score = self.det.model.score(window_features(win, self.geo))[0]
                self.alarms += int(score >= self.det.threshold)


def main() -> None:
    det = FallDetector.shipped()
    data = simulate(DEVICES, SECONDS)
    ids = [f"dev-{i:05d}" for i in range(DEVICES)]
    per = int(HZ)
    det.update_many(ids, np.full(DEVICES, T0), HZ, data[:, :per])  # allocate state
    start = time.process_time()
    alarms = 0
    for s in range(1, SECONDS):
        alarms += len(
            det.update_many(ids, np.full(DEVICES, T0 + s), HZ, data[:, s * per : (s + 1) * per])
        )
    vec_s = time.process_time() - start
    vec_rate = DEVICES * (SECONDS - 1) * per / vec_s

    loops = [LoopDevice(det) for _ in range(LOOP_DEVICES)]
    start = time.process_time()
    for d, dev in enumerate(loops):
        for x, y, z in data[d].tolist():
            dev.push(x, y, z, HZ)
    loop_s = time.process_time() - start
    loop_rate = LOOP_DEVICES * SECONDS * per / loop_s

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


if __name__ == "__main__":
    main()
