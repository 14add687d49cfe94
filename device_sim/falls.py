"""Acceleration around a fall (or a fall-like daily activity) at the wearable's rate.

Real recordings are replayed when the data sets are present (``$CAREHUB_FALL_DATA`` or
``../shared/data``, in the layouts :mod:`training.datasets` reads): SisFall falls (Sucerquia
et al., Sensors 17(1):198, 2017; 200 Hz at the waist) and daily activities,
polyphase-resampled to 25 or 50 Hz like a device would low-pass and decimate. Without them a
synthetic impact model is used: walking (about 1.8 steps/s), 0.3–0.5 s of free fall, an
impact of 2.5–6 g decaying within 0.2 s, then the body at rest in a new orientation. After
the recording the resident either stays down (still, sensor noise only) or gets up and
walks.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from training.datasets import COUNTS_TO_G, resample_even

DATA_ENV = "CAREHUB_FALL_DATA"
PRE_S = 8.0
"""Seconds of signal before the impact: the hub needs a few seconds of stream first."""


@dataclass(frozen=True, slots=True)
class Burst:
    """Samples ``g`` (n, 3) at ``hz``; the impact (or the ADL's peak) at sample ``peak``."""

    g: NDArray[np.float64]
    hz: float
    peak: int
    source: str


def data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV, "../shared/data"))


class FallLibrary:
    """Picks recordings for falls and daily activities; synthetic when none are present."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else data_dir()
        self.falls: list[tuple[Path, str]] = []
        self.adls: list[tuple[Path, str]] = []
        manifest = self.root / "sisfall" / "manifest.csv"
        if manifest.is_file():
            with manifest.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    item = (self.root / "sisfall" / row["file"], row["key"])
                    if row["is_fall"].strip() == "1":
                        self.falls.append(item)
                    elif row["activity"] in ("D07", "D08", "D10", "D13"):  # sitting down, lying
                        self.adls.append(item)

    @property
    def real(self) -> bool:
        return bool(self.falls)

    def fall(self, rng: np.random.Generator, hz: float, gets_up: bool, lie_s: float) -> Burst:
        """A fall followed by ``lie_s`` on the floor, then walking when ``gets_up``."""
        base = self._replay(self.falls, rng, hz) if self.falls else None
        if base is None:
            base = synthetic_fall(rng, hz)
        rest = _orientation(base.g[-int(hz) :])
        tail = [lying(rng, hz, lie_s, rest)]
        if gets_up:
            tail.append(walking(rng, hz, 12.0))
        return Burst(np.vstack([base.g, *tail]), hz, base.peak, base.source)

    def adl(self, rng: np.random.Generator, hz: float) -> Burst:
        """A fall-like daily activity (sitting down hard, lying down on a bed)."""
        base = self._replay(self.adls, rng, hz) if self.adls else None
        return base if base is not None else synthetic_sit(rng, hz)

    def _replay(
        self, items: list[tuple[Path, str]], rng: np.random.Generator, hz: float
    ) -> Burst | None:
        path, key = items[int(rng.integers(len(items)))]
        try:
            with np.load(path) as npz:
                raw = np.asarray(npz[key], dtype=np.float64) * COUNTS_TO_G
        except (OSError, KeyError, ValueError):
            return None  # a damaged file: the synthetic model stands in
        g = resample_even(raw, 200.0, hz)
        mag = np.linalg.norm(g, axis=1)
        peak = int(np.argmax(mag))
        start = max(0, peak - int(PRE_S * hz))
        g = g[start : peak + int(6 * hz)]
        peak -= start
        if peak < int(PRE_S * hz):  # too little before the impact: stand there first
            pad = standing(rng, hz, PRE_S - peak / hz, _orientation(g[: int(hz)]))
            g, peak = np.vstack([pad, g]), peak + len(pad)
        return Burst(np.clip(g, -31.9, 31.9), hz, peak, f"sisfall:{key}")


def _orientation(g: NDArray[np.float64]) -> NDArray[np.float64]:
    m = g.mean(axis=0)
    n = float(np.linalg.norm(m))
    return m / n if n > 0.1 else np.array([0.0, -1.0, 0.0])


def standing(
    rng: np.random.Generator, hz: float, seconds: float, up: NDArray[np.float64]
) -> NDArray[np.float64]:
    n = max(1, int(seconds * hz))
    return up[None, :] + rng.normal(0, 0.02, (n, 3))


def lying(
    rng: np.random.Generator, hz: float, seconds: float, down: NDArray[np.float64]
) -> NDArray[np.float64]:
    n = max(1, int(seconds * hz))
    return down[None, :] + rng.normal(0, 0.008, (n, 3))


def walking(rng: np.random.Generator, hz: float, seconds: float) -> NDArray[np.float64]:
    n = max(1, int(seconds * hz))
    t = np.arange(n) / hz
    f = rng.uniform(1.6, 2.0)
    g = np.zeros((n, 3))
    g[:, 1] = -1.0 + 0.3 * np.sin(2 * np.pi * f * t)
    g[:, 0] = 0.2 * np.sin(np.pi * f * t + 0.5)
    g[:, 2] = 0.1 * np.sin(2 * np.pi * f * t + 1.0)
    return g + rng.normal(0, 0.05, (n, 3))


def synthetic_fall(rng: np.random.Generator, hz: float) -> Burst:
    """Walking, free fall, impact, lying in a new orientation."""
    pre = walking(rng, hz, PRE_S - 0.4)
    ff = np.array([0.0, -0.3, 0.0])[None, :] + rng.normal(0, 0.05, (int(0.4 * hz), 3))
    k = max(2, int(0.2 * hz))
    peak_g = rng.uniform(2.5, 6.0)
    decay = peak_g * np.exp(-np.arange(k) / (0.25 * k))
    direction = rng.normal(0, 1, 3)
    direction /= np.linalg.norm(direction)
    impact = decay[:, None] * direction[None, :] + np.array([0.0, 0.0, 1.0])
    down = np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), 1.0])
    down /= np.linalg.norm(down)
    g = np.vstack([pre, ff, impact, lying(rng, hz, 5.0, down)])
    return Burst(g, hz, len(pre) + len(ff), "synthetic")


def synthetic_sit(rng: np.random.Generator, hz: float) -> Burst:
    """Walking, then sitting down hard on a chair (a bump of about 1.5–2 g)."""
    pre = walking(rng, hz, PRE_S)
    k = max(2, int(0.15 * hz))
    bump = (
        np.array([0.0, -1.0, 0.0])[None, :] * (1 + rng.uniform(0.4, 0.9) * np.hanning(k))[:, None]
    )
    sit = standing(rng, hz, 6.0, np.array([0.25, -0.95, 0.1]))
    return Burst(np.vstack([pre, bump, sit]), hz, len(pre) + k // 2, "synthetic")
