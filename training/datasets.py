"""Load fall-detection recordings from the two layouts in ``../shared/data/``.

*Counts layout*: ``manifest.csv`` with ``key, subject, activity, is_fall, ..., file`` (and
optionally ``group``, ``age``, ``position``, ``rate_hz``) and per-subject ``.npz`` files
mapping each key to an int16 ``(n, 3)`` array of raw accelerometer counts. The scale
comes from a ``g_per_count`` manifest column when there is one, else from the data set
(:data:`G_PER_COUNT`, by directory name); the rate from ``rate_hz``, else 200 Hz; the
position from ``position``, else the waist. Two data sets use it:

- SisFall (Sucerquia et al., Sensors 17(1):198, 2017): ADXL345 at the waist, 200 Hz,
  g = counts × 32 / 8192 (±16 g, 13 bits); ``group`` young/elderly.
- FallAllD (Saleh et al., IEEE Sensors Journal 21(2), 2021): the wrist device, 238 Hz,
  g = counts × 0.000244 (±8 g); fixed 20-s windows with the impact in the middle.

A scale that does not fit the data is refused: the median ``|a|`` of a data set's first
recording must be about 1 g (gravity), so a wrong factor cannot silently scale every
impact up or down.

*Timed layout* (UMAFall: Casilari et al., Procedia Computer Science 110, 2017, and any data
set written the same way): ``manifest.csv`` with ``key, subject, age, activity, is_fall,
position, ..., file`` and ``.npz`` files mapping each key to a float ``(n, 4)`` array of
``[t_ms, x, y, z]`` in g with irregular timestamps. Extra manifest columns are ignored.

Every recording is resampled to one evenly spaced rate (``rate``), as a wearable at that
rate would deliver it: polyphase resampling with an anti-alias filter for evenly sampled
data, linear interpolation onto a regular grid first for irregular timestamps.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hub.errors import CarehubError

COUNTS_HZ = 200.0
COUNTS_TO_G = 32.0 / 8192.0
"""SisFall's scale (the counts layout's default)."""
G_PER_COUNT: dict[str, float] = {"sisfall": COUNTS_TO_G, "fallalld": 0.000244}
"""g per raw count by data-set directory name (from each data set's documentation)."""
GRAVITY_RANGE_G = (0.7, 1.4)
"""Plausible median ``|a|`` of a whole recording (worn, mostly not in free fall)."""
OLDER_AGE = 60
"""Age from which a subject of the timed layout is reported as older (WHO's "older people")."""

DATA_ENV = "CAREHUB_FALL_DATA"


def default_data_dir() -> Path:
    """``$CAREHUB_FALL_DATA`` or ``../shared/data`` relative to the working directory."""
    return Path(os.environ.get(DATA_ENV, "../shared/data"))


@dataclass(frozen=True, slots=True)
class Recording:
    """One trial, evenly sampled at ``hz`` (``t`` in s from its first sample)."""

    dataset: str
    key: str
    subject: str
    group: str
    age: int | None
    activity: str
    is_fall: bool
    position: str
    hz: float
    t: NDArray[np.float64]
    xyz_g: NDArray[np.float64]

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds."""
        return len(self.xyz_g) / self.hz


class DatasetError(CarehubError, ValueError):
    """A data directory does not hold a readable data set (a ``ValueError`` too, as callers
    that validate arguments and data together expect)."""


def manifests(data: Path) -> list[Path]:
    """Data-set directories under ``data`` (itself, or its subdirectories with a manifest)."""
    if (data / "manifest.csv").is_file():
        return [data]
    found = sorted(p.parent for p in data.glob("*/manifest.csv"))
    if not found:
        raise DatasetError(f"no manifest.csv in {data} or its subdirectories")
    return found


def resample_even(x: NDArray[np.float64], src_hz: float, dst_hz: float) -> NDArray[np.float64]:
    """Polyphase resampling (with its anti-alias filter) of evenly sampled ``(n, 3)`` data."""
    if abs(src_hz - dst_hz) < 1e-9:
        return x
    # scipy.signal is imported on first use: the simulator (and through the `carehub` CLI,
    # `carehub serve`) imports this module, and scipy costs a process about 70 MB resident.
    from scipy.signal import resample_poly

    ratio = Fraction(dst_hz / src_hz).limit_denominator(200)
    out: NDArray[np.float64] = resample_poly(x, ratio.numerator, ratio.denominator, axis=0)
    return out


def _regularise(t_s: NDArray[np.float64], x: NDArray[np.float64], hz: float) -> NDArray[np.float64]:
    """Linear interpolation of irregular samples onto a grid at ``hz`` from the first sample."""
    order = np.argsort(t_s, kind="stable")
    t_s, x = t_s[order], x[order]
    keep = np.r_[True, np.diff(t_s) > 0]
    t_s, x = t_s[keep], x[keep]
    grid = t_s[0] + np.arange(int(np.floor((t_s[-1] - t_s[0]) * hz)) + 1) / hz
    return np.column_stack([np.interp(grid, t_s, x[:, i]) for i in range(3)])


def _timed_to_rate(arr: NDArray[np.float64], rate: float) -> NDArray[np.float64]:
    t_s = arr[:, 0].astype(np.float64) / 1000.0
    x = arr[:, 1:4].astype(np.float64)
    span = float(t_s.max() - t_s.min())
    native = (len(t_s) - 1) / span if span > 0 else rate
    if rate >= 0.8 * native:
        return _regularise(t_s, x, rate)
    # Regularise at the native rate first, then low-pass and decimate like a device would.
    base = float(max(round(native), 1))
    return resample_even(_regularise(t_s, x, base), base, rate)


def _age(value: str | None) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _g_per_count(root: Path, row: dict[str, str]) -> float:
    given = row.get("g_per_count")
    if given:
        return float(given)
    return G_PER_COUNT.get(root.name.lower(), COUNTS_TO_G)


def _check_gravity(root: Path, key: str, g: NDArray[np.float64], scale: float) -> None:
    median = float(np.median(np.linalg.norm(g, axis=1)))
    lo, hi = GRAVITY_RANGE_G
    if not lo <= median <= hi:
        raise DatasetError(
            f"{root.name}/{key}: median |a| is {median:.3g} g with {scale:g} g per count; "
            "give the data set's scale in a g_per_count manifest column"
        )


def iter_recordings(data: Path, rate: float, position: str | None = None) -> Iterator[Recording]:
    """Yield every recording under ``data`` resampled to ``rate`` Hz.

    ``position`` (case-insensitive, e.g. ``"wrist"``) keeps only that sensor position;
    the counts layout is at the waist.
    """
    pos = position.upper() if position else None
    for root in manifests(data):
        with (root / "manifest.csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows or not {"key", "subject", "activity", "is_fall", "file"} <= set(rows[0]):
            raise DatasetError(f"{root / 'manifest.csv'} lacks the required columns")
        cache: dict[str, np.lib.npyio.NpzFile] = {}
        checked = False
        try:
            for row in rows:
                position_row = (row.get("position") or "WAIST").upper()
                if pos and position_row != pos:
                    continue
                npz = cache.get(row["file"])
                if npz is None:
                    npz = cache[row["file"]] = np.load(root / row["file"])
                arr = np.asarray(npz[row["key"]])
                if arr.ndim != 2 or arr.shape[1] not in (3, 4) or len(arr) < 2:
                    raise DatasetError(f"{row['key']}: unexpected array shape {arr.shape}")
                if arr.shape[1] == 3:
                    src = float(row.get("rate_hz") or COUNTS_HZ)
                    scale = _g_per_count(root, row) if np.issubdtype(arr.dtype, np.integer) else 1.0
                    g = arr.astype(np.float64) * scale
                    if not checked:
                        _check_gravity(root, row["key"], g, scale)
                        checked = True
                    xyz = resample_even(g, src, rate)
                else:
                    xyz = _timed_to_rate(arr, rate)
                age = _age(row.get("age"))
                group = row.get("group") or (
                    "unknown" if age is None else ("older" if age >= OLDER_AGE else "younger")
                )
                yield Recording(
                    dataset=root.name,
                    key=row["key"],
                    subject=row["subject"],
                    group=group,
                    age=age,
                    activity=row["activity"],
                    is_fall=str(row["is_fall"]).strip() in ("1", "true", "True"),
                    position=position_row,
                    hz=float(rate),
                    t=np.arange(len(xyz)) / float(rate),
                    xyz_g=np.ascontiguousarray(xyz, dtype=np.float64),
                )
        finally:
            for npz in cache.values():
                npz.close()


def load(data: Path, rate: float, position: str | None = None) -> list[Recording]:
    """All recordings of :func:`iter_recordings` as a list."""
    return list(iter_recordings(data, rate, position))
