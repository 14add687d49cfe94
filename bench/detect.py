"""Fall-detector throughput: 10,000 simulated devices sending 1-s bursts at 50 Hz.

Samples per second on one core for the vectorised path
(:meth:`hub.detect.falls.FallDetector.update_many`, one call per second of data for every
device) against its fair peer, the same detector called per device
(:meth:`~hub.detect.falls.FallDetector.update`, one call per device and burst, as a hub
without the batching would). Both sides have their own detector, the same 10,000 devices
and the same bursts, and both are warmed the same way (the first second of data, which
allocates each device's state, is not timed). They are timed in alternating rounds
(``--rounds``, at least 5) of ``--seconds - 1`` seconds of data each, with the CPU time of
this process (BLAS threads pinned to one), and the medians are compared. The two sides
must raise the same number of alarms: the check that they did the same work.

Figures: ``detect_samples_per_s`` (goal ≥ 500,000), ``detect_vs_loop`` (goal ≥ 50),
``detect_per_device_samples_per_s``. Run: ``python -m bench.detect`` (about a minute).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from bench.common import Figure, median, report
from hub.detect.falls import FallDetector

HZ = 50.0
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


class Side:
    """One detector fed the same stream, second by second, by one of the two paths."""

    def __init__(self, ids: list[str], batches: list[np.ndarray], vectorised: bool) -> None:
        self.det = FallDetector.shipped()
        self.ids, self.batches, self.vectorised = ids, batches, vectorised
        self.t, self.alarms = T0, 0
        self._feed(0)  # warm-up: allocates every device's state, not timed

    def _feed(self, s: int) -> None:
        x = self.batches[s]
        if self.vectorised:
            starts = np.full(len(self.ids), self.t)
            self.alarms += len(self.det.update_many(self.ids, starts, HZ, x))
        else:
            update, t = self.det.update, self.t
            for d, device_id in enumerate(self.ids):
                self.alarms += len(update(device_id, t, HZ, x[d]))
        self.t += 1.0

    def round(self) -> float:
        """CPU seconds for seconds 1..S-1 of data (the stream continues across rounds)."""
        start = time.process_time()
        for s in range(1, len(self.batches)):
            self._feed(s)
        return time.process_time() - start


def measure(devices: int, seconds: int, rounds: int) -> dict[str, float]:
    data = simulate(devices, seconds)
    ids = [f"dev-{i:05d}" for i in range(devices)]
    per = int(HZ)
    # One (D, n, 3) array per second, as a batch of received bursts would arrive.
    batches = [np.ascontiguousarray(data[:, s * per : (s + 1) * per]) for s in range(seconds)]
    vec, loop = Side(ids, batches, vectorised=True), Side(ids, batches, vectorised=False)
    vec_s, loop_s = [], []
    for _ in range(rounds):
        vec_s.append(vec.round())
        loop_s.append(loop.round())
    if vec.alarms != loop.alarms:
        raise SystemExit(f"the two paths disagree: {vec.alarms} against {loop.alarms} alarms")
    samples = devices * (seconds - 1) * per
    return {"vec_rate": samples / median(vec_s), "loop_rate": samples / median(loop_s),
            "alarms": vec.alarms, "rounds": rounds}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=6, help="seconds of data (1 is warm-up)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    m = measure(args.devices, args.seconds, args.rounds)
    n = args.rounds
    raise SystemExit(report(
        f"fall detector, {args.devices:,} devices, 1-s bursts at {HZ:g} Hz, one core",
        [Figure("detect_samples_per_s", m["vec_rate"], n),
         Figure("detect_vs_loop", m["vec_rate"] / m["loop_rate"], n),
         Figure("detect_per_device_samples_per_s", m["loop_rate"], n)],
        [("vectorised (update_many), median", f"{m['vec_rate']:,.0f} samples/s"),
         ("per device (update), median", f"{m['loop_rate']:,.0f} samples/s"),
         ("alarms raised by each path", f"{m['alarms']:.0f} (simulated knocks, no falls)"),
         ("rounds", f"{n}, alternating, {args.seconds - 1} s of data each")],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
