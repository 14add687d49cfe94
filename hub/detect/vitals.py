"""Abnormal vital signs from a wearable: NEWS2 and clinician limits, persistent and gated.

Per device, every reading goes through three steps.

1. **Gating** (an artefact is not an alarm). A value is set aside when the wearable is not
   worn (``worn`` false: all values), the wearer moves (``motion`` true: hr, spo2, rr, sbp,
   which come from optical or cuffless sensors that motion corrupts), the device's own
   confidence is below ``min_quality`` (``quality.hr`` for hr, ``quality.spo2`` for spo2),
   the value is not physiologically plausible, or it jumps from the previous reading by
   more than ``max_step`` within ``jump_window_s`` (a real change persists, so only the
   first reading of a step is set aside). NaN and missing values are simply absent.
2. **Persistence**, per parameter on its own readings (a message that lacks a parameter
   neither confirms nor breaks it). The *confirming window* of a parameter is its most
   recent accepted readings, at least ``persist_n`` of them spanning at least
   ``persist_s`` seconds. A sub-score (or a limit breach) is *confirmed* up to the lowest
   level held over the whole window, and down to the highest level over the whole window:
   one odd reading moves nothing either way. A gap longer than ``max_gap_s`` between
   accepted readings starts the window again.
3. **Findings** from the confirmed state: NEWS2 (:mod:`hub.detect.news2`, RCP 2017) over
   the parameters the device provides, risk band high → ``high``, medium or low-medium
   (a 3 in one parameter) → ``medium``; clinician limits per resident (``hr_high`` …,
   strictly beyond the limit; see :class:`Clinical`, deployment-wide defaults in
   ``default_clinical``) → ``threshold_priority``. One ``vitals`` finding per episode
   and one more per escalation; when every condition has been confirmed normal again,
   ``vitals_recovered`` (low) lets a non-latched alert clear itself.

Values are compared on the NEWS2 chart's resolution (whole units, temperature in tenths,
halves up; see :func:`hub.detect.news2.chart_value`). Consciousness is never scored (not
assessed by devices) and supplemental oxygen comes from the clinical settings, so the
score is always marked partial.

Time comes only from the readings. A reading at or before the last one of its parameter
is late and dropped; a device clock that jumps back by more than ``reorder_s`` restarts the
windows (confirmed states and open episodes are kept, so no duplicate alarm follows).
A reading that cannot be read is counted in :attr:`VitalsDetector.dropped`, never raised.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.detect import news2
from hub.detect.findings import EvidenceValue, Finding, Priority

PARAMS: tuple[str, ...] = ("rr", "spo2", "sbp", "hr", "temp")
"""Parameters this detector scores, in NEWS2 chart order."""
MOTION_SENSITIVE = frozenset({"hr", "spo2", "rr", "sbp"})
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "hr": (20, 250), "spo2": (50, 100), "rr": (3, 70), "temp": (30, 44), "sbp": (50, 280),
}  # fmt: skip
"""Same limits as the device contract: outside them no living person or working sensor."""
DEFAULT_MAX_STEP: dict[str, float] = {"hr": 40, "spo2": 8, "rr": 15, "temp": 1.5, "sbp": 50}
"""Largest believable change between readings ``jump_window_s`` apart (engineering choice,
several times the beat-to-beat and breath-to-breath variability of a resting adult)."""
# Lower edge of the NEWS2 zero band on the chart scale: below it a deviation is "low".
_ZERO_FROM = {p: news2.zero_band_start(p) for p in PARAMS}
_LABELS = {
    ("spo2", "low"): ("血氧持续偏低", "Low oxygen saturation"),
    ("spo2", "high"): ("吸氧时血氧持续偏高", "High oxygen saturation on oxygen"),
    ("hr", "high"): ("心率持续偏快", "Fast heart rate"),
    ("hr", "low"): ("心率持续偏慢", "Slow heart rate"),
    ("rr", "high"): ("呼吸持续偏快", "Fast breathing"),
    ("rr", "low"): ("呼吸持续偏慢", "Slow breathing"),
    ("temp", "high"): ("体温持续偏高", "High body temperature"),
    ("temp", "low"): ("体温持续偏低", "Low body temperature"),
    ("sbp", "high"): ("收缩压持续偏高", "High systolic blood pressure"),
    ("sbp", "low"): ("收缩压持续偏低", "Low systolic blood pressure"),
}
_UNITS = {"hr": (" 次/分", " bpm"), "rr": (" 次/分", "/min"), "spo2": ("%", "%"),
          "temp": ("°C", " °C"), "sbp": (" mmHg", " mmHg")}  # fmt: skip
_RISK = {"medium": ("中风险", "medium risk"), "high": ("高风险", "high risk")}


# --- input: readings and clinical settings ---------------------------------------------

VALUE_FIELDS: tuple[str, ...] = ("hr", "spo2", "rr", "temp", "sbp", "dbp", "glucose")


@dataclass(frozen=True, slots=True)
class VitalReading:
    """One telemetry reading as the vital-sign detectors use it (NaN or None: absent)."""

    ts: float
    hr: float | None = None
    spo2: float | None = None
    rr: float | None = None
    temp: float | None = None
    sbp: float | None = None
    dbp: float | None = None
    glucose: float | None = None
    hr_quality: float | None = None
    spo2_quality: float | None = None
    motion: bool | None = None
    worn: bool | None = None

    def value(self, name: str) -> float | None:
        """The finite value of a parameter, or None."""
        v: float | None = getattr(self, name)
        return v if v is not None and math.isfinite(v) else None


def _field(obj: object, name: str) -> object:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _number(obj: object, name: str) -> float | None:
    v = _field(obj, name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(v).__name__}")
    return float(v)


def _flag(obj: object, name: str) -> bool | None:
    v = _field(obj, name)
    if v is None or isinstance(v, bool):
        return v
    raise TypeError(f"{name} must be true or false, not {type(v).__name__}")


def as_reading(obj: object) -> VitalReading:
    """A :class:`VitalReading` from a telemetry model or a mapping shaped like its JSON.

    Raises ``ValueError``/``TypeError`` for a reading without a finite ``ts`` or with a
    value of the wrong type.

    >>> as_reading({"ts": 1.7e9, "hr": 72, "quality": {"hr": 0.9, "motion": False}}).hr_quality
    0.9
    """
    if isinstance(obj, VitalReading):
        return obj
    ts = _number(obj, "ts")
    if ts is None or not math.isfinite(ts):
        raise ValueError("a reading needs a finite ts")
    values = {name: _number(obj, name) for name in VALUE_FIELDS}
    q = _field(obj, "quality")
    return VitalReading(
        ts,
        **values,
        hr_quality=_number(q, "hr") if q is not None else None,
        spo2_quality=_number(q, "spo2") if q is not None else None,
        motion=_flag(q, "motion") if q is not None else None,
        worn=_flag(q, "worn") if q is not None else None,
    )


LIMIT_KEYS: tuple[str, ...] = tuple(f"{p}_{s}" for p in PARAMS for s in ("high", "low"))
"""Clinician limit keys read from ``Resident.clinical``: ``hr_high``, ``hr_low``, …"""


@dataclass(frozen=True, slots=True)
class Clinical:
    """The keys of ``Resident.clinical`` this detector reads (others are ignored).

    - ``spo2_scale``: 1 (default) or 2 — NEWS2 SpO2 scale 2 for a resident whose target
      saturation is 88–92 % (hypercapnic respiratory failure), prescribed by a clinician.
    - ``on_oxygen``: true when the resident is on supplemental oxygen (NEWS2 +2; on scale 2
      the on-oxygen bands apply above 92 %). Default false (air).
    - ``{hr,spo2,rr,temp,sbp}_{high,low}``: limits in the parameter's unit; a value strictly
      above ``*_high`` or strictly below ``*_low`` (compared at chart resolution) that
      persists gives a ``vitals`` finding naming the parameter.
    """

    spo2_scale: int = 1
    on_oxygen: bool = False
    limits: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, clinical: Mapping[str, Any] | None) -> Clinical:
        """Validate the settings; ``ValueError`` names the offending key."""
        c = clinical or {}
        scale = c.get("spo2_scale", 1)
        if isinstance(scale, bool) or scale not in (1, 2):
            raise ValueError(f"clinical spo2_scale must be 1 or 2, not {scale!r}")
        oxygen = c.get("on_oxygen", False)
        if oxygen is not True and oxygen is not False:
            raise ValueError(f"clinical on_oxygen must be true or false, not {oxygen!r}")
        limits: dict[str, float] = {}
        for key in LIMIT_KEYS:
            v = c.get(key)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"clinical {key} must be a finite number, not {v!r}")
            limits[key] = float(v)
        for p in PARAMS:
            lo, hi = limits.get(f"{p}_low"), limits.get(f"{p}_high")
            if lo is not None and hi is not None and lo >= hi:
                raise ValueError(f"clinical {p}_low ({lo:g}) must be below {p}_high ({hi:g})")
        return cls(int(scale), oxygen, limits)


def _shown(param: str, value: float) -> str:
    v = news2.chart_value(value, param)
    return f"{v / 10:.1f}" if param == "temp" else str(v)


@dataclass(slots=True)
class _Param:
    """One parameter of one device: its confirming window and confirmed state."""

    window: deque[tuple[float, float, int, int]] = field(default_factory=deque)
    """(ts, value, NEWS2 sub-score, limit code -1/0/+1) of accepted readings."""
    last_ts: float = -math.inf
    raw: float = math.nan
    raw_ts: float = -math.inf
    score: int | None = None
    """Confirmed NEWS2 sub-score; None until a first window completes."""
    high: bool = False
    low: bool = False
    value: float = math.nan
    since: float = math.nan
    count: int = 0


@dataclass(slots=True)
class _Device:
    clinical: Clinical = field(default_factory=Clinical)
    params: dict[str, _Param] = field(default_factory=lambda: {p: _Param() for p in PARAMS})
    last_ts: float = -math.inf
    news_level: int = 0
    limits: set[str] = field(default_factory=set)
    dirty: bool = False
    """Clinical settings changed: re-evaluate at the next reading."""


class VitalsDetector:
    """Streaming vital-sign detector for any number of devices (state keyed by device id).

    Examples
    --------
    >>> det = VitalsDetector(persist_n=3, persist_s=120)
    >>> out = []
    >>> for i in range(6):
    ...     out += det.update("w-1", [{"ts": 1.7e9 + 60 * i, "spo2": 88, "hr": 80}])
    >>> [(f.kind, f.priority, f.evidence["parameter"]) for f in out]
    [('vitals', 'medium', 'spo2')]
    """

    def __init__(
        self,
        *,
        persist_n: int = 3,
        persist_s: float = 300.0,
        max_gap_s: float = 900.0,
        min_quality: float = 0.5,
        max_step: Mapping[str, float] | None = None,
        jump_window_s: float = 120.0,
        reorder_s: float = 120.0,
        threshold_priority: Priority = "medium",
        default_clinical: Mapping[str, Any] | None = None,
    ) -> None:
        if persist_n < 1 or persist_s < 0 or max_gap_s <= 0:
            raise ValueError("persist_n >= 1, persist_s >= 0 and max_gap_s > 0 are required")
        self.persist_n = persist_n
        self.persist_s = persist_s
        self.max_gap_s = max_gap_s
        self.min_quality = min_quality
        self.max_step = dict(DEFAULT_MAX_STEP if max_step is None else max_step)
        self.jump_window_s = jump_window_s
        self.reorder_s = reorder_s
        self.threshold_priority: Priority = threshold_priority
        self.default_clinical = dict(default_clinical or {})
        self._default = Clinical.parse(self.default_clinical)
        self.dropped: Counter[str] = Counter()
        """Readings or values not used, by reason (``malformed``, ``late``, …)."""
        self.gated: Counter[str] = Counter()
        """Values set aside as artefacts, by reason (``motion``, ``not_worn``, …)."""
        self._devices: dict[str, _Device] = {}
        self._clinical: dict[str, Clinical] = {}
        """Non-default settings of devices without state yet (see :meth:`set_clinical`)."""

    # --- per-device state -----------------------------------------------------------

    def set_clinical(self, device_id: str, clinical: Mapping[str, Any] | None) -> None:
        """Apply the resident's clinical settings (see :class:`Clinical` for the keys).

        The resident's keys override ``default_clinical`` key by key (``None`` removes a
        default limit). Raises ``ValueError`` on a bad setting and keeps the previous ones.
        """
        parsed = Clinical.parse({**self.default_clinical, **(clinical or {})})
        dev = self._devices.get(device_id)
        if dev is None:
            # Kept aside until the device sends a first reading: the hub applies every
            # registered device's settings at start, and state for ten parameters of a
            # device that never sends vitals (a door sensor) cost ~6 KB each.
            if parsed == self._default:
                self._clinical.pop(device_id, None)
            else:
                self._clinical[device_id] = parsed
            return
        dev.clinical = parsed
        dev.dirty = True
        for name, par in dev.params.items():  # rescore what the windows hold
            par.window = deque((t, v, *self._codes(name, v, parsed)) for t, v, _, _ in par.window)
            # A limit the clinician removed is no longer breached.
            par.high = par.high and f"{name}_high" in parsed.limits
            par.low = par.low and f"{name}_low" in parsed.limits

    def _device(self, device_id: str) -> _Device:
        dev = self._devices.get(device_id)
        if dev is None:
            clinical = self._clinical.pop(device_id, self._default)
            dev = self._devices[device_id] = _Device(clinical)
        return dev

    def forget(self, device_id: str) -> None:
        """Drop all state of a device (its clinical settings too)."""
        self._devices.pop(device_id, None)
        self._clinical.pop(device_id, None)

    @property
    def devices(self) -> int:
        """Number of devices with state (those that sent a reading)."""
        return len(self._devices)

    def active(self, device_id: str) -> tuple[str, ...]:
        """Conditions with an open episode, e.g. ``("news2", "hr_high")``."""
        dev = self._devices.get(device_id)
        if dev is None:
            return ()
        return (("news2",) if dev.news_level else ()) + tuple(sorted(dev.limits))

    def confirmed(self, device_id: str) -> dict[str, int]:
        """Confirmed NEWS2 sub-score per parameter (parameters not yet confirmed left out)."""
        dev = self._devices.get(device_id)
        if dev is None:
            return {}
        return {p: s.score for p, s in dev.params.items() if s.score is not None}

    # --- streaming ------------------------------------------------------------------

    def update(self, device_id: str, readings: Iterable[object]) -> list[Finding]:
        """Consume a batch of readings of one device, in arrival order.

        A reading is a :class:`VitalReading`, a telemetry model or a mapping shaped like the
        telemetry JSON (``ts``, values, optional ``quality``).
        """
        if isinstance(readings, (Mapping, VitalReading)):
            readings = [readings]
        dev = self._device(device_id)
        out: list[Finding] = []
        for item in readings:
            try:
                reading = as_reading(item)
            except (TypeError, ValueError):
                self.dropped["malformed"] += 1
                continue
            out += self._step(device_id, dev, reading)
        return out

    def _step(self, device_id: str, dev: _Device, r: VitalReading) -> list[Finding]:
        if r.ts < dev.last_ts - self.reorder_s:  # the device clock jumped back
            self.dropped["clock_jump"] += 1
            for par in dev.params.values():
                par.window.clear()
                par.last_ts = par.raw_ts = -math.inf
            dev.last_ts = r.ts
        dev.last_ts = max(dev.last_ts, r.ts)
        changed, dev.dirty = dev.dirty, False
        for name in PARAMS:
            value = r.value(name)
            if value is None:
                continue
            par = dev.params[name]
            if r.ts <= par.last_ts:
                self.dropped["late"] += 1
                continue
            par.last_ts = r.ts
            why = self._gate(name, value, r, par)
            if why:
                self.gated[why] += 1
                continue
            changed |= self._accept(name, par, r.ts, value, dev.clinical)
        return self._findings(device_id, dev, r.ts) if changed else []

    def _gate(self, name: str, value: float, r: VitalReading, par: _Param) -> str | None:
        lo, hi = PLAUSIBLE[name]
        if not lo <= value <= hi:
            return "implausible"
        if r.worn is False:
            return "not_worn"
        if r.motion is True and name in MOTION_SENSITIVE:
            return "motion"
        quality = {"hr": r.hr_quality, "spo2": r.spo2_quality}.get(name)
        if quality is not None and quality < self.min_quality:
            return "low_quality"
        prev, prev_ts = par.raw, par.raw_ts
        par.raw, par.raw_ts = value, r.ts
        step = self.max_step.get(name)
        if step is not None and r.ts - prev_ts <= self.jump_window_s and abs(value - prev) > step:
            return "jump"
        return None

    def _codes(self, name: str, value: float, clinical: Clinical) -> tuple[int, int]:
        if name == "spo2":
            score = news2.score_spo2(value, clinical.spo2_scale, clinical.on_oxygen)
        else:
            score = {"rr": news2.score_rr, "sbp": news2.score_sbp, "hr": news2.score_pulse,
                     "temp": news2.score_temp}[name](value)  # fmt: skip
        shown = news2.chart_value(value, name) / (10.0 if name == "temp" else 1.0)
        high = clinical.limits.get(f"{name}_high")
        low = clinical.limits.get(f"{name}_low")
        code = 1 if high is not None and shown > high else 0
        code = -1 if low is not None and shown < low else code
        return score, code

    def _accept(self, name: str, par: _Param, ts: float, value: float, cl: Clinical) -> bool:
        """Add an accepted value; True when the confirmed state of the parameter changed."""
        if par.window and ts - par.window[-1][0] > self.max_gap_s:
            par.window.clear()
        par.window.append((ts, value, *self._codes(name, value, cl)))
        # Find the shortest recent run that satisfies both persistence conditions.
        n = 0
        lo_s, hi_s, highs, lows = 99, -1, 0, 0
        for t, _, s, c in reversed(par.window):
            n += 1
            lo_s, hi_s = min(lo_s, s), max(hi_s, s)
            highs += c == 1
            lows += c == -1
            start = t
            if n >= self.persist_n and ts - t >= self.persist_s:
                break
        else:
            return False
        while par.window[0][0] < start:  # older readings can never be needed again
            par.window.popleft()
        old = (par.score, par.high, par.low)
        score = 0 if par.score is None else par.score
        par.score = lo_s if lo_s > score else (hi_s if hi_s < score else score)
        par.high = highs == n or (par.high and highs > 0)
        par.low = lows == n or (par.low and lows > 0)
        if (par.score, par.high, par.low) != old:
            par.value, par.since, par.count = value, start, n
        return (par.score, par.high, par.low) != old

    # --- findings -------------------------------------------------------------------

    def _findings(self, device_id: str, dev: _Device, at: float) -> list[Finding]:
        out: list[Finding] = []
        cleared: list[str] = []
        known = {p: s for p, s in dev.params.items() if s.score is not None}
        if known:
            cl = dev.clinical
            oxygen = news2.score_air_or_oxygen(cl.on_oxygen)
            total = sum(s.score or 0 for s in known.values()) + oxygen
            top = max(s.score or 0 for s in known.values())
            band = news2.risk_band(total, top)
            level = {"low": 0, "low-medium": 1, "medium": 1, "high": 2}[band]
            if level > dev.news_level:
                out.append(self._news_finding(device_id, dev, at, total, band, known))
            elif level == 0 < dev.news_level:
                cleared.append("news2")
            dev.news_level = level
        for name, par in dev.params.items():
            for side, on in (("high", par.high), ("low", par.low)):
                cond = f"{name}_{side}"
                if on and cond not in dev.limits:
                    dev.limits.add(cond)
                    out.append(self._limit_finding(device_id, dev, at, name, side))
                elif not on and cond in dev.limits:
                    dev.limits.discard(cond)
                    cleared.append(cond)
        if cleared and not dev.news_level and not dev.limits:
            out.append(self._recovered(device_id, at, cleared))
        return out

    def _news_finding(
        self,
        device_id: str,
        dev: _Device,
        at: float,
        total: int,
        band: news2.RiskBand,
        known: dict[str, _Param],
    ) -> Finding:
        main = max(known, key=lambda p: (known[p].score or 0, -PARAMS.index(p)))
        par = known[main]
        side = self._side(main, par.value, dev.clinical.spo2_scale)
        evidence = self._evidence(main, side, par, at)
        evidence.update(
            condition="news2",
            news2=total,
            band=band,
            partial=True,
            scored=",".join(["oxygen", *known]),
            unscored=",".join(p for p in news2.PARAMETERS if p != "oxygen" and p not in known),
            consciousness="not_assessed",
            spo2_scale=dev.clinical.spo2_scale,
            on_oxygen=dev.clinical.on_oxygen,
        )
        for p, s in known.items():
            evidence[f"score_{p}"] = s.score or 0
        zh, en = _LABELS[(main, side)]
        uz, ue = _UNITS[main]
        shown = _shown(main, par.value)
        rz, re_ = _RISK.get(band, ("", ""))
        return Finding(
            device_id,
            "vitals",
            "high" if band == "high" else "medium",
            at,
            evidence,
            {
                "zh-CN": f"{zh}：{shown}{uz}（NEWS2 {total} 分{'，' + rz if rz else ''}）",
                "en": f"{en}: {shown}{ue} (NEWS2 {total}{', ' + re_ if re_ else ''})",
            },
        )

    def _limit_finding(
        self, device_id: str, dev: _Device, at: float, name: str, side: str
    ) -> Finding:
        par = dev.params[name]
        limit = dev.clinical.limits[f"{name}_{side}"]
        evidence = self._evidence(name, side, par, at)
        evidence.update(condition=f"{name}_{side}", limit=limit)
        if par.score is not None:
            evidence["score_" + name] = par.score
        zh, en = _LABELS[(name, side)]
        uz, ue = _UNITS[name]
        shown = _shown(name, par.value)
        zh_tail = f"超出设定上限 {limit:g}" if side == "high" else f"低于设定下限 {limit:g}"
        en_tail = f"{'above' if side == 'high' else 'below'} the set limit of {limit:g}"
        return Finding(
            device_id,
            "vitals",
            self.threshold_priority,
            at,
            evidence,
            {"zh-CN": f"{zh}：{shown}{uz}（{zh_tail}）", "en": f"{en}: {shown}{ue} ({en_tail})"},
        )

    @staticmethod
    def _recovered(device_id: str, at: float, cleared: list[str]) -> Finding:
        return Finding(
            device_id,
            "vitals_recovered",
            "low",
            at,
            {"cleared": ",".join(cleared)},
            {"zh-CN": "生命体征已恢复正常", "en": "Vital signs back to normal"},
        )

    @staticmethod
    def _side(name: str, value: float, spo2_scale: int) -> str:
        # On scale 2 only 88-92 % scores 0; anything scoring below it is low, above it high.
        edge = 90 if name == "spo2" and spo2_scale == 2 else _ZERO_FROM[name]
        return "low" if news2.chart_value(value, name) < edge else "high"

    @staticmethod
    def _evidence(name: str, side: str, par: _Param, at: float) -> dict[str, EvidenceValue]:
        return {
            "parameter": name,
            "direction": side,
            "value": round(par.value, 2),
            "readings": par.count,
            "since": par.since,
            "duration_s": round(at - par.since, 1),
        }


__all__ = ["PARAMS", "PLAUSIBLE", "Clinical", "VitalReading", "VitalsDetector", "as_reading"]
