"""Drift from the resident's own baseline, e.g. resting heart rate up for hours.

A population threshold (NEWS2) misses a change that stays inside the normal range for the
population but not for this person: a resident whose resting pulse has been 62 for weeks
and sits at 84 all afternoon may be starting an infection, dehydrated or in heart failure.
A sustained rise of the resting heart rate above the person's own baseline has been seen
days before symptoms of infection in wearable studies (Mishra et al., *Nature Biomedical
Engineering* 4:1208–1220, 2020; Radin et al., *Lancet Digital Health* 2(2):e85–e93, 2020).

Per device and for one ``parameter``:

- **Resting readings** only: worn, not moving (``motion`` not true; with
  ``require_rest`` it must be reported false), quality at least ``min_quality``, a finite
  and plausible value.
- **Baseline with bounded memory**: resting readings go into ``bucket_s`` buckets (hourly);
  a finished bucket with at least ``min_bucket_readings`` readings leaves only its median
  in a ring of ``window_s / bucket_s`` slots (168 for 7 days). The baseline is the median
  of the bucket medians in the window and their MAD (scaled by 1.4826 to estimate a
  standard deviation): robust to the odd bad hour and to a few days of illness.
- **Warm-up** (``grace_period``): no finding until the buckets in the window span that
  long and there are at least ``min_buckets`` of them.
- **Drift**: the median of the last ``smooth_s`` of resting readings (so single noisy
  readings do not break a run) lies at least ``max(delta, k_mad * MAD)`` beyond the
  baseline median (above for ``direction="up"``, below for ``"down"``) without a break for
  ``hold_s`` → one ``vitals_drift`` finding (medium). Back within the threshold for
  ``hold_s`` → ``vitals_drift_cleared`` (low).
- **No learning from flagged periods**: readings in a drift run, during an open drift, or
  passed with ``flagged=True`` (the caller knows of another alarm, e.g. fever) never enter
  the baseline.

A drift that outlasts the whole window leaves no baseline: the detector then starts
learning again (with its warm-up), without claiming a recovery.

A resting gap longer than ``max_gap_s`` ends a run; a clock that jumps back by more than
``reorder_s`` restarts the run and drops the unfinished bucket (the ring is kept: buckets
are keyed by their absolute index, so only those inside the window around the new clock
count); a reading slightly out of order is dropped as late.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from hub.detect.findings import Finding
from hub.detect.vitals import PLAUSIBLE, VitalReading, as_reading

MAD_SCALE = 1.482602218505602
"""1 / Φ⁻¹(3/4): makes the MAD of normal data estimate its standard deviation."""
_NAMES = {
    "hr": ("静息心率", "Resting heart rate", " 次/分", " bpm"),
    "rr": ("静息呼吸频率", "Resting respiration rate", " 次/分", "/min"),
    "spo2": ("静息血氧", "Resting oxygen saturation", "%", "%"),
    "temp": ("体温", "Body temperature", "°C", " °C"),
}


@dataclass(slots=True)
class _State:
    ring_med: NDArray[np.float64]
    ring_idx: NDArray[np.int64]
    bucket: int | None = None
    values: list[float] = field(default_factory=list)
    last_ts: float = -math.inf
    smooth: deque[tuple[float, float]] = field(default_factory=deque)
    run_since: float | None = None
    normal_since: float | None = None
    active: bool = False
    cache: tuple[float, float, int, bool] | None = None
    """(median, MAD, buckets, ready) of the baseline, until the next bucket closes."""


class BaselineDrift:
    """Per-device drift of one resting parameter from its own robust baseline.

    Examples
    --------
    >>> det = BaselineDrift(grace_period=86_400, min_buckets=12)
    >>> det.update("w-1", [{"ts": 1.7e9, "hr": 62}])
    []
    >>> det.baseline("w-1") is None  # no finished bucket yet
    True
    """

    def __init__(
        self,
        *,
        parameter: str = "hr",
        direction: Literal["up", "down"] = "up",
        delta: float = 15.0,
        k_mad: float = 0.0,
        window_s: float = 7 * 86_400.0,
        bucket_s: float = 3_600.0,
        grace_period: float = 3 * 86_400.0,
        min_buckets: int = 24,
        min_bucket_readings: int = 5,
        bucket_cap: int = 720,
        hold_s: float = 7_200.0,
        smooth_s: float = 900.0,
        min_smooth_readings: int = 3,
        max_gap_s: float = 1_800.0,
        min_quality: float = 0.5,
        require_rest: bool = False,
        reorder_s: float = 120.0,
    ) -> None:
        if parameter not in _NAMES:
            raise ValueError(f"parameter must be one of {sorted(_NAMES)}, not {parameter!r}")
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be up or down, not {direction!r}")
        if delta <= 0 or bucket_s <= 0 or window_s < bucket_s:
            raise ValueError("delta > 0, bucket_s > 0 and window_s >= bucket_s are required")
        self.parameter = parameter
        self.direction = direction
        self.delta = delta
        self.k_mad = k_mad
        self.window_s = window_s
        self.bucket_s = bucket_s
        self.grace_period = grace_period
        self.min_buckets = min_buckets
        self.min_bucket_readings = min_bucket_readings
        self.bucket_cap = bucket_cap
        self.hold_s = hold_s
        self.smooth_s = smooth_s
        self.min_smooth_readings = min_smooth_readings
        self.max_gap_s = max_gap_s
        self.min_quality = min_quality
        self.require_rest = require_rest
        self.reorder_s = reorder_s
        self.slots = math.ceil(window_s / bucket_s)
        self.dropped: Counter[str] = Counter()
        """Readings not used, by reason (``malformed``, ``not_resting``, ``late``, …)."""
        self._states: dict[str, _State] = {}

    # --- per-device state -----------------------------------------------------------

    def _state(self, device_id: str) -> _State:
        st = self._states.get(device_id)
        if st is None:
            st = _State(np.full(self.slots, np.nan), np.full(self.slots, -1, dtype=np.int64))
            self._states[device_id] = st
        return st

    def forget(self, device_id: str) -> None:
        """Drop all state of a device."""
        self._states.pop(device_id, None)

    @property
    def devices(self) -> int:
        return len(self._states)

    def learned(self, device_id: str) -> dict[str, Any] | None:
        """The closed hourly buckets of a device's baseline (what takes days to rebuild) as
        plain values (NaN as None), for a cluster worker's snapshot; None when unknown."""
        st = self._states.get(device_id)
        if st is None or st.bucket is None:
            return None
        meds = [None if math.isnan(m) else float(m) for m in st.ring_med]
        return {"ring_med": meds, "ring_idx": st.ring_idx.tolist(), "bucket": st.bucket}

    def restore_learned(self, device_id: str, data: Mapping[str, Any]) -> None:
        """Take back the buckets of :meth:`learned` (a partition's new owner); the open
        bucket fills again from the stream replayed after it."""
        meds = [math.nan if m is None else float(m) for m in data["ring_med"]]
        if len(meds) != self.slots:
            return  # another window or bucket size: learn afresh
        st = self._state(device_id)
        st.ring_med = np.asarray(meds, dtype=np.float64)
        st.ring_idx = np.asarray(data["ring_idx"], dtype=np.int64)
        st.bucket = int(data["bucket"]) if st.bucket is None else st.bucket
        st.cache = None

    def baseline(self, device_id: str) -> tuple[float, float, int] | None:
        """(median, scaled MAD, number of hourly buckets) of the current baseline, or None."""
        st = self._states.get(device_id)
        if st is None or st.bucket is None:
            return None
        med, mad, n, _ = self._baseline(st)
        return None if n == 0 else (med, mad, n)

    def _baseline(self, st: _State) -> tuple[float, float, int, bool]:
        if st.cache is None:
            assert st.bucket is not None
            lo = st.bucket - self.slots
            ok = (st.ring_idx > lo) & (st.ring_idx < st.bucket)
            meds = st.ring_med[ok]
            if len(meds) == 0:
                st.cache = (math.nan, math.nan, 0, False)
            else:
                med = float(np.median(meds))
                mad = float(np.median(np.abs(meds - med))) * MAD_SCALE
                idx = st.ring_idx[ok]
                span = float(idx.max() - idx.min() + 1) * self.bucket_s
                ready = len(meds) >= self.min_buckets and span >= self.grace_period
                st.cache = (med, mad, len(meds), ready)
        return st.cache

    def _close_bucket(self, st: _State, new_bucket: int) -> None:
        if st.bucket is not None and len(st.values) >= self.min_bucket_readings:
            slot = st.bucket % self.slots
            st.ring_med[slot] = float(np.median(st.values))
            st.ring_idx[slot] = st.bucket
        st.bucket = new_bucket
        st.values = []
        st.cache = None

    # --- streaming ------------------------------------------------------------------

    def update(
        self, device_id: str, readings: Iterable[object], *, flagged: bool = False
    ) -> list[Finding]:
        """Consume a batch of one device's readings in arrival order.

        ``flagged``: these readings fall in a period another detector alarmed on; they are
        checked for drift but never learned.
        """
        if isinstance(readings, (Mapping, VitalReading)):
            readings = [readings]
        st = self._state(device_id)
        out: list[Finding] = []
        for item in readings:
            try:
                r = as_reading(item)
            except (TypeError, ValueError):
                self.dropped["malformed"] += 1
                continue
            value = self._resting_value(r)
            if value is None:
                continue
            found = self._step(device_id, st, r.ts, value, flagged)
            if found is not None:
                out.append(found)
        return out

    def _resting_value(self, r: VitalReading) -> float | None:
        value = r.value(self.parameter)
        if value is None:
            return None
        lo, hi = PLAUSIBLE[self.parameter]
        quality = {"hr": r.hr_quality, "spo2": r.spo2_quality}.get(self.parameter)
        moving = r.motion is not False if self.require_rest else r.motion is True
        if (
            not lo <= value <= hi
            or r.worn is False
            or moving
            or (quality is not None and quality < self.min_quality)
        ):
            self.dropped["not_resting"] += 1
            return None
        return value

    def _step(
        self, device_id: str, st: _State, ts: float, value: float, flagged: bool
    ) -> Finding | None:
        if ts <= st.last_ts:
            if ts >= st.last_ts - self.reorder_s:
                self.dropped["late"] += 1
                return None
            self.dropped["clock_jump"] += 1  # restart the run, drop the unfinished bucket
            st.smooth.clear()
            st.run_since = st.normal_since = None
            st.values = []
            st.bucket = None
        elif ts - st.last_ts > self.max_gap_s:
            st.smooth.clear()
            st.run_since = st.normal_since = None
        st.last_ts = ts
        bucket = math.floor(ts / self.bucket_s)
        if bucket != st.bucket:
            self._close_bucket(st, bucket)
        st.smooth.append((ts, value))
        while st.smooth[0][0] < ts - self.smooth_s:
            st.smooth.popleft()
        found = self._judge(device_id, st, ts)
        learn = not (flagged or st.active or st.run_since is not None)
        if learn and len(st.values) < self.bucket_cap:
            st.values.append(value)
        return found

    def _judge(self, device_id: str, st: _State, ts: float) -> Finding | None:
        med, mad, n, ready = self._baseline(st)
        if not ready and (st.active or st.run_since is not None):
            # The drift outlasted the window: nothing is left to compare with. Learn again
            # from here (the open alert stays with staff; no "recovered" is claimed).
            st.active = False
            st.run_since = st.normal_since = None
            st.ring_idx[:] = -1  # what is left of the old level must not mix with the new
            st.cache = None
        if not ready or len(st.smooth) < self.min_smooth_readings:
            return None
        level = float(np.median([v for _, v in st.smooth]))
        margin = max(self.delta, self.k_mad * mad)
        beyond = level - med >= margin if self.direction == "up" else med - level >= margin
        if beyond:
            st.normal_since = None
            if st.run_since is None:
                st.run_since = ts
            if not st.active and ts - st.run_since >= self.hold_s:
                st.active = True
                return self._finding(device_id, "vitals_drift", ts, level, med, mad, n, margin, st)
            return None
        st.run_since = None
        if st.active:
            if st.normal_since is None:
                st.normal_since = ts
            if ts - st.normal_since >= self.hold_s:
                st.active = False
                kind = "vitals_drift_cleared"
                return self._finding(device_id, kind, ts, level, med, mad, n, margin, st)
        return None

    def _finding(
        self,
        device_id: str,
        kind: str,
        ts: float,
        level: float,
        med: float,
        mad: float,
        n: int,
        margin: float,
        st: _State,
    ) -> Finding:
        since = st.run_since if kind == "vitals_drift" else st.normal_since
        assert since is not None
        hours = (ts - since) / 3600.0
        zh, en, uz, ue = _NAMES[self.parameter]
        digits = 1 if self.parameter == "temp" else 0
        lv, md = f"{level:.{digits}f}", f"{med:.{digits}f}"
        if kind == "vitals_drift":
            way_zh = "升高" if self.direction == "up" else "降低"
            way_en = "above" if self.direction == "up" else "below"
            reason = {
                "zh-CN": f"{zh}较本人基线持续{way_zh}：{lv}{uz}（基线 {md}，已 {hours:.1f} 小时）",
                "en": f"{en} {way_en} own baseline: {lv}{ue} (baseline {md}) for {hours:.1f} h",
            }
        else:
            reason = {
                "zh-CN": f"{zh}已回到本人基线附近：{lv}{uz}（基线 {md}）",
                "en": f"{en} back near own baseline: {lv}{ue} (baseline {md})",
            }
        return Finding(
            device_id,
            kind,
            "medium" if kind == "vitals_drift" else "low",
            ts,
            {
                "parameter": self.parameter,
                "direction": self.direction,
                "value": round(level, 2),
                "baseline_median": round(med, 2),
                "baseline_mad": round(mad, 2),
                "baseline_buckets": n,
                "margin": round(margin, 2),
                "since": since,
                "duration_s": round(ts - since, 1),
            },
            reason,
        )


__all__ = ["MAD_SCALE", "BaselineDrift"]
