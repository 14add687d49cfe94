"""Two reference detectors evaluated beside ours on the same recordings and rate.

* **Peak |a|**: alarm when ``|a|`` reaches a threshold. Fixed value 3.52 g, the upper fall
  threshold for the trunk of Bourke et al. (Gait & Posture 26(2):194-199, 2007).
* **C8** of Sucerquia et al. (SisFall, Sensors 17(1):198, 2017): standard deviation of the
  acceleration magnitude in the horizontal plane, here over sliding 1-s windows. The
  vertical is taken as the mean acceleration direction over the recording's first second
  (the SisFall waist sensor's y axis; for other data sets the sensor's mounting is unknown,
  so it is estimated the same way).

Each alarms at its first threshold crossing and then stays quiet for ``REFRACTORY_S``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from training.datasets import Recording

REFRACTORY_S = 10.0
C8_WINDOW_S = 1.0


def magnitude(r: Recording) -> NDArray[np.float64]:
    """``|a|`` per sample in g."""
    out: NDArray[np.float64] = np.linalg.norm(r.xyz_g, axis=1)
    return out


def c8_series(r: Recording) -> NDArray[np.float64]:
    """C8 at the end of each 1-s window (causal), one value per sample from the first window."""
    n = max(1, round(C8_WINDOW_S * r.hz))
    up = r.xyz_g[: max(n, 1)].mean(axis=0)
    norm = np.linalg.norm(up)
    up = up / norm if norm > 1e-6 else np.array([0.0, 0.0, 1.0])
    vertical = r.xyz_g @ up
    horiz = np.sqrt(np.maximum((r.xyz_g**2).sum(axis=1) - vertical**2, 0.0))
    if len(horiz) < n:
        return np.array([float(horiz.std())])
    c1 = np.concatenate([[0.0], np.cumsum(horiz)])
    c2 = np.concatenate([[0.0], np.cumsum(horiz**2)])
    s1 = c1[n:] - c1[:-n]
    s2 = c2[n:] - c2[:-n]
    out: NDArray[np.float64] = np.sqrt(np.maximum(s2 / n - (s1 / n) ** 2, 0.0))
    return out


def peak_stat(r: Recording) -> float:
    """Largest ``|a|`` of the recording."""
    return float(magnitude(r).max())


def c8_stat(r: Recording) -> float:
    """Largest C8 of the recording."""
    return float(c8_series(r).max())


def alarm_times(
    series: NDArray[np.float64], hz: float, threshold: float, offset: int = 0
) -> list[float]:
    """Times (s) of threshold crossings, at most one per ``REFRACTORY_S``."""
    out: list[float] = []
    quiet_until = -np.inf
    for i in np.flatnonzero(series >= threshold).tolist():
        t = (i + offset) / hz
        if t >= quiet_until:
            out.append(t)
            quiet_until = t + REFRACTORY_S
    return out


def peak_alarms(r: Recording, threshold: float) -> list[float]:
    """Alarm times of the peak baseline on one recording."""
    return alarm_times(magnitude(r), r.hz, threshold)


def c8_alarms(r: Recording, threshold: float) -> list[float]:
    """Alarm times of the C8 baseline (a window's value is known at its last sample)."""
    n = max(1, round(C8_WINDOW_S * r.hz))
    return alarm_times(c8_series(r), r.hz, threshold, offset=n - 1)


def fit_threshold(stat: NDArray[np.float64], is_fall: NDArray[np.bool_]) -> float:
    """Threshold on a per-recording statistic maximising sensitivity + specificity."""
    cand = np.unique(stat)
    if len(cand) == 0 or is_fall.all() or not is_fall.any():
        return float(np.median(stat)) if len(stat) else 0.0
    falls = np.sort(stat[is_fall])
    adls = np.sort(stat[~is_fall])
    sens = 1.0 - np.searchsorted(falls, cand, side="left") / len(falls)
    spec = np.searchsorted(adls, cand, side="left") / len(adls)
    i = int(np.argmax(sens + spec))
    below = float(adls[adls < cand[i]].max()) if (adls < cand[i]).any() else float(cand[i])
    return float((below + cand[i]) / 2.0)
