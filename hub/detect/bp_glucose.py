"""Blood pressure and glucose from self-service monitors: out-of-range readings and trends.

A home cuff or glucose meter sends a few deliberate measurements a day, so a single
reading counts (no persistence, unlike the wearable's stream). Defaults and their sources:

Blood pressure, kind ``bp`` (mmHg):

- ``sbp >= crisis_sbp`` (180) or ``dbp >= crisis_dbp`` (120) → **high**, severe elevation:
  "hypertensive crisis" above 180 and/or 120 in the 2017 ACC/AHA guideline (Whelton et al.,
  *Hypertension* 71:e13–e115, 2018); grade 3 hypertension starts at 180 systolic in the
  2018 ESC/ESH guideline (Williams et al., *Eur Heart J* 39:3021–3104), so 180 itself counts.
- ``sbp >= high_sbp`` (160) or ``dbp >= high_dbp`` (100) → **low**: ESC/ESH 2018 grade 2,
  worth a look at the next visit. A clinician's ``sbp_high`` / ``dbp_high`` replaces this
  rule: strictly above the limit → **medium**.
- ``sbp < low_sbp`` (90) → **medium**, hypotension (the conventional 90 mmHg systolic; NEWS2
  scores ≤ 90 as 3). A clinician's ``sbp_low`` replaces 90.

Glucose, kind ``glucose`` (mmol/L), after the American Diabetes Association's Standards of
Care (section 6, Glycemic Goals and Hypoglycemia) and the international consensus on time
in range (Battelino et al., *Diabetes Care* 42:1593–1603, 2019):

- ``< severe_hypo_glucose`` (3.0, level 2 hypoglycaemia) → **high**;
  ``< hypo_glucose`` (3.9, level 1) → **medium**; a clinician's ``glucose_low`` replaces 3.9.
- ``> crisis_glucose`` (33.3 = 600 mg/dL, the hyperosmolar hyperglycaemic state criterion of
  the ADA consensus on hyperglycaemic crises, Kitabchi et al., *Diabetes Care* 32:1335, 2009)
  → **high**; ``> hyper_glucose`` (13.9 = 250 mg/dL, level 2 hyperglycaemia) → **medium**;
  a clinician's ``glucose_high`` replaces 13.9.

Trends: over the last ``trend_window_s`` (7 days) the Theil–Sen slope (median of pairwise
slopes with Sen's confidence interval, as ``scipy.stats.theilslopes`` computes them; robust
to a few odd readings) of systolic pressure or
glucose, expressed as the rise over the window, reaches ``sbp_trend_rise`` (20 mmHg) or
``glucose_trend_rise`` (2.0 mmol/L) with the lower end of its ``trend_confidence``
interval above zero, from at least ``trend_min_readings`` readings spanning
``trend_min_span_s`` → one finding (``trend_priority``, low) until the trend goes away.
These trend thresholds are engineering defaults for review, not guideline values.

Readings more than ``max_age_s`` older than the device's newest (a meter syncing its
memory) raise no out-of-range finding — they are history — but count for trends.
Non-finite or implausible values and ``dbp >= sbp`` are counted in ``dropped``.

The slope is computed here (:func:`theil_sen`) rather than imported from ``scipy.stats``:
importing that package costs the hub process about 70 MB of resident memory for this one
function (``bench/rss.py``); the tests check the two agree.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hub.detect.findings import EvidenceValue, Finding, Priority
from hub.detect.vitals import VitalReading, as_reading

CLINICAL_KEYS: tuple[str, ...] = ("sbp_high", "dbp_high", "sbp_low", "glucose_low", "glucose_high")
"""Keys of ``Resident.clinical`` this detector reads (each a number in the reading's unit)."""
_PLAUSIBLE = {"sbp": (50.0, 280.0), "dbp": (20.0, 180.0), "glucose": (0.5, 40.0)}


def parse_clinical(clinical: Mapping[str, Any] | None) -> dict[str, float]:
    """The limits among ``clinical``; ``ValueError`` names a key that is not a number."""
    out: dict[str, float] = {}
    for key in CLINICAL_KEYS:
        v = (clinical or {}).get(key)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"clinical {key} must be a finite number, not {v!r}")
        out[key] = float(v)
    return out


@dataclass(slots=True)
class _State:
    limits: dict[str, float] = field(default_factory=dict)
    newest: float = -math.inf
    sbp: list[tuple[float, float]] = field(default_factory=list)
    glucose: list[tuple[float, float]] = field(default_factory=list)
    trending: set[str] = field(default_factory=set)


class BpGlucoseDetector:
    """Out-of-range and trend findings from blood-pressure monitors and glucose meters.

    Examples
    --------
    >>> det = BpGlucoseDetector()
    >>> [f.priority for f in det.update("g-1", [{"ts": 1.7e9, "glucose": 2.8}])]
    ['high']
    """

    def __init__(
        self,
        *,
        crisis_sbp: float = 180.0,
        crisis_dbp: float = 120.0,
        high_sbp: float = 160.0,
        high_dbp: float = 100.0,
        low_sbp: float = 90.0,
        severe_hypo_glucose: float = 3.0,
        hypo_glucose: float = 3.9,
        hyper_glucose: float = 13.9,
        crisis_glucose: float = 33.3,
        max_age_s: float = 6 * 3_600.0,
        trend_window_s: float = 7 * 86_400.0,
        trend_min_readings: int = 6,
        trend_min_span_s: float = 3 * 86_400.0,
        sbp_trend_rise: float = 20.0,
        glucose_trend_rise: float = 2.0,
        trend_confidence: float = 0.90,
        trend_priority: Priority = "low",
    ) -> None:
        self.crisis_sbp = crisis_sbp
        self.crisis_dbp = crisis_dbp
        self.high_sbp = high_sbp
        self.high_dbp = high_dbp
        self.low_sbp = low_sbp
        self.severe_hypo_glucose = severe_hypo_glucose
        self.hypo_glucose = hypo_glucose
        self.hyper_glucose = hyper_glucose
        self.crisis_glucose = crisis_glucose
        self.max_age_s = max_age_s
        self.trend_window_s = trend_window_s
        self.trend_min_readings = max(3, trend_min_readings)
        self.trend_min_span_s = trend_min_span_s
        self.sbp_trend_rise = sbp_trend_rise
        self.glucose_trend_rise = glucose_trend_rise
        self.trend_confidence = trend_confidence
        self.trend_priority: Priority = trend_priority
        self.dropped: Counter[str] = Counter()
        """Readings or values not used, by reason (``malformed``, ``implausible``, ``late``)."""
        self._states: dict[str, _State] = {}

    def set_clinical(self, device_id: str, clinical: Mapping[str, Any] | None) -> None:
        """Apply the resident's limits (:data:`CLINICAL_KEYS`); ``ValueError`` keeps the old."""
        limits = parse_clinical(clinical)
        st = self._states.get(device_id)
        if st is not None:
            st.limits = limits
        elif limits:  # no state for every registered device without limits (most of them)
            self._states[device_id] = _State(limits)

    def forget(self, device_id: str) -> None:
        self._states.pop(device_id, None)

    @property
    def devices(self) -> int:
        return len(self._states)

    # --- streaming ------------------------------------------------------------------

    def update(self, device_id: str, readings: Iterable[object]) -> list[Finding]:
        """Consume a batch of one device's readings (any order)."""
        if isinstance(readings, (Mapping, VitalReading)):
            readings = [readings]
        st = self._states.setdefault(device_id, _State())
        batch: list[VitalReading] = []
        for item in readings:
            try:
                batch.append(as_reading(item))
            except (TypeError, ValueError):
                self.dropped["malformed"] += 1
        if not batch:
            return []
        st.newest = max(st.newest, *(r.ts for r in batch))
        out: list[Finding] = []
        for r in batch:
            sbp, dbp, glucose = self._values(r)
            fresh = st.newest - r.ts <= self.max_age_s
            if not fresh and (sbp, dbp, glucose) != (None, None, None):
                self.dropped["late"] += 1
            if sbp is not None or dbp is not None:
                if sbp is not None:
                    _insert(st.sbp, r.ts, sbp)
                if fresh:
                    out += self._bp(device_id, st, r.ts, sbp, dbp)
            if glucose is not None:
                _insert(st.glucose, r.ts, glucose)
                if fresh:
                    out += self._glucose(device_id, st, r.ts, glucose)
        out += self._trends(device_id, st)
        return out

    def _values(self, r: VitalReading) -> tuple[float | None, float | None, float | None]:
        vals = {k: r.value(k) for k in _PLAUSIBLE}
        for k, v in vals.items():
            if v is not None and not _PLAUSIBLE[k][0] <= v <= _PLAUSIBLE[k][1]:
                self.dropped["implausible"] += 1
                vals[k] = None
        sbp, dbp = vals["sbp"], vals["dbp"]
        if sbp is not None and dbp is not None and dbp >= sbp:
            self.dropped["implausible"] += 1
            sbp = dbp = None
        return sbp, dbp, vals["glucose"]

    # --- out of range ---------------------------------------------------------------

    def _bp(
        self, dev: str, st: _State, ts: float, sbp: float | None, dbp: float | None
    ) -> list[Finding]:
        s = -math.inf if sbp is None else sbp
        d = -math.inf if dbp is None else dbp
        shown = f"{_fmt(sbp)}/{_fmt(dbp)} mmHg"
        lim_s, lim_d = st.limits.get("sbp_high"), st.limits.get("dbp_high")
        found: tuple[str, Priority, str, str] | None = None
        if s >= self.crisis_sbp or d >= self.crisis_dbp:
            found = ("hypertensive_crisis", "high", "血压严重升高", "Severely high blood pressure")
        elif lim_s is not None or lim_d is not None:
            if (lim_s is not None and s > lim_s) or (lim_d is not None and d > lim_d):
                limit = f"{_fmt(lim_s)}/{_fmt(lim_d)}"
                found = ("above_limit", "medium", f"血压高于设定上限 {limit}",
                         f"Blood pressure above the set limit of {limit}")  # fmt: skip
        elif s >= self.high_sbp or d >= self.high_dbp:
            found = ("hypertension", "low", "血压偏高", "High blood pressure")
        low = st.limits.get("sbp_low", self.low_sbp)
        if found is None and sbp is not None and sbp < low:
            found = ("hypotension", "medium", "血压偏低", "Low blood pressure")
        if found is None:
            return []
        cond, prio, zh, en = found
        ev: dict[str, EvidenceValue] = {"condition": cond, "parameter": "bp"}
        ev.update({k: v for k, v in (("sbp", sbp), ("dbp", dbp)) if v is not None})
        return [
            Finding(dev, "bp", prio, ts, ev, {"zh-CN": f"{zh}：{shown}", "en": f"{en}: {shown}"})
        ]

    def _glucose(self, dev: str, st: _State, ts: float, g: float) -> list[Finding]:
        low = st.limits.get("glucose_low", self.hypo_glucose)
        high = st.limits.get("glucose_high", self.hyper_glucose)
        found: tuple[str, Priority, str, str, float]
        if g < self.severe_hypo_glucose:
            found = ("hypoglycaemia_level2", "high", "严重低血糖", "Severe low blood sugar",
                     self.severe_hypo_glucose)  # fmt: skip
        elif g < low:
            found = ("hypoglycaemia", "medium", "低血糖", "Low blood sugar", low)
        elif g > self.crisis_glucose:
            found = ("hyperglycaemic_crisis", "high", "血糖极高", "Very high blood sugar",
                     self.crisis_glucose)  # fmt: skip
        elif g > high:
            found = ("hyperglycaemia", "medium", "血糖偏高", "High blood sugar", high)
        else:
            return []
        cond, prio, zh, en, limit = found
        ev: dict[str, EvidenceValue] = {
            "condition": cond, "parameter": "glucose", "value": g, "limit": limit,
        }  # fmt: skip
        reason = {"zh-CN": f"{zh}：{g:.1f} mmol/L", "en": f"{en}: {g:.1f} mmol/L"}
        return [Finding(dev, "glucose", prio, ts, ev, reason)]

    # --- trends ---------------------------------------------------------------------

    def _trends(self, dev: str, st: _State) -> list[Finding]:
        out: list[Finding] = []
        for name, series, rise_min in (
            ("sbp", st.sbp, self.sbp_trend_rise),
            ("glucose", st.glucose, self.glucose_trend_rise),
        ):
            cut = bisect.bisect_left(series, (st.newest - self.trend_window_s, -math.inf))
            del series[:cut]
            trend = self.trend(series)
            rising = trend is not None and trend[0] >= rise_min and trend[1] > 0
            if rising and name not in st.trending:
                st.trending.add(name)
                assert trend is not None
                out.append(self._trend_finding(dev, st.newest, name, series, trend))
            elif not rising:
                st.trending.discard(name)
        return out

    def trend(self, series: list[tuple[float, float]]) -> tuple[float, float, float] | None:
        """(rise over the window, low and high end of its confidence interval), or None.

        None when there are too few readings or they span too little time.
        """
        if len(series) < self.trend_min_readings:
            return None
        t = np.array([p[0] for p in series])
        if t[-1] - t[0] < self.trend_min_span_s:
            return None
        y = np.array([p[1] for p in series])
        return theil_sen(y, (t - t[0]) / self.trend_window_s, self.trend_confidence)

    def _trend_finding(
        self,
        dev: str,
        at: float,
        name: str,
        series: list[tuple[float, float]],
        trend: tuple[float, float, float],
    ) -> Finding:
        rise, low, high = trend
        days = self.trend_window_s / 86_400.0
        kind = "bp" if name == "sbp" else "glucose"
        if kind == "bp":
            reason = {
                "zh-CN": f"血压近 {days:g} 天呈上升趋势：收缩压约升高 {rise:.0f} mmHg",
                "en": f"Blood pressure rising over {days:g} days: systolic up {rise:.0f} mmHg",
            }
        else:
            reason = {
                "zh-CN": f"血糖近 {days:g} 天呈上升趋势：约升高 {rise:.1f} mmol/L",
                "en": f"Blood glucose rising over {days:g} days: up about {rise:.1f} mmol/L",
            }
        evidence: dict[str, EvidenceValue] = {
            "condition": "trend",
            "parameter": name,
            "rise": round(rise, 2),
            "rise_low": round(low, 2),
            "rise_high": round(high, 2),
            "window_s": self.trend_window_s,
            "readings": len(series),
            "first_at": series[0][0],
            "latest": series[-1][1],
        }
        return Finding(dev, kind, self.trend_priority, at, evidence, reason)


def _insert(series: list[tuple[float, float]], ts: float, value: float) -> None:
    """Keep the series sorted by time; a second reading at the same time replaces the first."""
    i = bisect.bisect_left(series, (ts, -math.inf))
    if i < len(series) and series[i][0] == ts:
        series[i] = (ts, value)
    else:
        series.insert(i, (ts, value))


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.0f}"


__all__ = ["CLINICAL_KEYS", "BpGlucoseDetector", "parse_clinical", "theil_sen"]


def theil_sen(
    y: NDArray[np.float64], x: NDArray[np.float64], confidence: float
) -> tuple[float, float, float]:
    """Theil–Sen slope of ``y`` over ``x`` and its ``confidence`` interval (Sen 1968, eq. 2.6,
    with the tie correction): the same numbers as ``scipy.stats.theilslopes(y, x, confidence)``.

    >>> theil_sen(np.array([0.0, 1.0, 2.0, 3.0, 40.0]), np.arange(5.0), 0.9)[0]  # one outlier
    1.0
    """
    dx = x[:, None] - x
    dy = y[:, None] - y
    pos = dx > 0
    slopes = np.sort(dy[pos] / dx[pos])
    if not slopes.size:
        return math.nan, math.nan, math.nan
    median = float(np.median(slopes))
    alpha = 1.0 - confidence if confidence > 0.5 else confidence
    z = statistics.NormalDist().inv_cdf(alpha / 2.0)
    n, nt = len(y), len(slopes)

    def ties(v: NDArray[np.float64]) -> float:
        _, counts = np.unique(v, return_counts=True)
        k = counts[counts > 1].astype(np.float64)
        return float(np.sum(k * (k - 1) * (2 * k + 5)))

    sigma = math.sqrt((n * (n - 1) * (2 * n + 5) - ties(x) - ties(y)) / 18.0)
    upper = min(round((nt - z * sigma) / 2.0), nt - 1)
    lower = max(round((nt + z * sigma) / 2.0) - 1, 0)
    return median, float(slopes[lower]), float(slopes[upper])
