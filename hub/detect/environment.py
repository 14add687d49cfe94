"""Home environment: smoke, gas and water alarms, and room temperatures that harm older people.

**Hazards.** A smoke, gas or water-leak sensor that reports ``alarm: true`` raises a finding
of the same kind at once, priority high; ``alarm: false`` after an alarm (or after a restart,
when the previous state is unknown) raises ``smoke_cleared``/``gas_cleared``/
``water_cleared`` (low) so the alert can clear. Repeats of the same state raise nothing
(the alert engine keeps one open alert per kind anyway). State is per device and hazard
kind; an event older than the last one seen for that pair is ignored.

**Room temperature.** ``room_temp`` (medium) when readings stay below ``cold_c`` or above
``hot_c`` (or above ``hot_night_c`` at night, when set) for ``persist_s`` without a gap
longer than ``max_gap_s``; ``room_temp_cleared`` (low) once a reading is back inside the
band by ``hysteresis_c``. Sources for the defaults:

- Cold: the WHO Housing and health guidelines (2018, recommendation 3.1) propose 18 °C as a
  safe and well-balanced indoor temperature in cold seasons and higher for older people;
  Public Health England's Cold Weather Plan for England (2015) and its review "Minimum home
  temperature thresholds for health in winter" (2014) keep 18 °C as the minimum and link
  colder homes to respiratory and cardiovascular harm. ``cold_c = 16`` alarms a care station
  only when a home is clearly below that minimum, not at every slightly cool room.
- Heat: WHO Regional Office for Europe, "Public health advice on preventing health effects of
  heat" (2011) and Heat–health action plans (2008): keep rooms below 32 °C by day and 24 °C
  at night, especially for people over 60. ``hot_c = 32``; the night limit is off by default
  (``hot_night_c = None``) because homes without air conditioning exceed 24 °C on many
  summer nights and a station needs to trust every alarm; set it where cooling is common.

Readings are processed in time order per batch; NaN readings are skipped, readings older
than the last one of the device are ignored (a clock that jumps back), and readings more
than ``max_future_s`` ahead of ``now`` are counted in ``ignored`` and dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from hub.detect.activity import LocalTime, in_window
from hub.detect.findings import EvidenceValue, Finding
from hub.detect.rooms import room_names

HAZARDS = ("smoke", "gas", "water")
_ZH = {"smoke": "烟雾", "gas": "燃气泄漏", "water": "漏水"}
_EN = {"smoke": "Smoke", "gas": "Gas leak", "water": "Water leak"}


@dataclass(slots=True)
class _Temp:
    last_ts: float = -math.inf
    run: str | None = None
    """"cold", "hot" or None: which side of the band the current run of readings is on."""
    run_start: float = 0.0
    extreme: float = math.nan
    state: str | None = None
    """The side that raised a finding and has not cleared yet."""
    zone: LocalTime | None = None
    """The device's station's time zone (the detector's own when None): when night is."""


class EnvironmentDetector:
    """Hazard alarms and room-temperature extremes, per device.

    Examples
    --------
    >>> det = EnvironmentDetector()
    >>> [f.kind for f in det.hazard("s-1", "smoke", True, 1.7e9, now=1.7e9, room="kitchen")]
    ['smoke']
    """

    def __init__(
        self,
        *,
        cold_c: float = 16.0,
        hot_c: float = 32.0,
        hot_night_c: float | None = None,
        night_h: tuple[float, float] = (22.0, 6.0),
        persist_s: float = 30 * 60.0,
        hysteresis_c: float = 1.0,
        max_gap_s: float = 15 * 60.0,
        max_future_s: float = 300.0,
        utc_offset_s: float = 8 * 3600.0,
    ) -> None:
        if not cold_c < hot_c or hysteresis_c < 0:
            raise ValueError("need cold_c < hot_c and a non-negative hysteresis")
        self.cold_c = cold_c
        self.hot_c = hot_c
        self.hot_night_c = hot_night_c
        self.night_h = night_h
        self.persist_s = persist_s
        self.hysteresis_c = hysteresis_c
        self.max_gap_s = max_gap_s
        self.max_future_s = max_future_s
        self.utc_offset_s = utc_offset_s
        self.zone = LocalTime(None, utc_offset_s)
        self.ignored = 0
        self._alarms: dict[tuple[str, str], tuple[bool, float]] = {}
        self._temps: dict[str, _Temp] = {}

    def set_zone(self, device_id: str, tz: str) -> None:
        """The IANA time zone of the device's station, for the night limit."""
        st = self._temps.setdefault(device_id, _Temp())
        if st.zone is None or st.zone.tz != tz:
            st.zone = LocalTime(tz)

    def forget(self, device_id: str) -> None:
        """Drop all state of a device."""
        self._temps.pop(device_id, None)
        for key in [k for k in self._alarms if k[0] == device_id]:
            del self._alarms[key]

    # --- hazards ---------------------------------------------------------------------

    def hazard(
        self, device_id: str, kind: str, alarm: bool, ts: float, now: float,
        *, room: str | None = None,
    ) -> list[Finding]:  # fmt: skip
        """A smoke/gas/water event: ``alarm`` true (detected) or false (cleared)."""
        if kind not in HAZARDS:
            raise ValueError(f"unknown hazard {kind!r}; expected one of {HAZARDS}")
        if not math.isfinite(ts) or ts > now + self.max_future_s:
            self.ignored += 1
            ts = now  # an alarm is never dropped for a bad clock: take it as happening now
        prev = self._alarms.get((device_id, kind))
        if prev is not None and ts < prev[1]:
            return []  # older than what we know: the state has moved on
        self._alarms[device_id, kind] = (alarm, ts)
        if prev is not None and prev[0] == alarm:
            return []
        where = room or ""
        ev: dict[str, EvidenceValue] = {"room": where, "event_ts": ts}
        zh_room, en_room = room_names(where)
        at_zh, at_en = (f"（{zh_room}）", f" ({en_room})") if where else ("", "")
        if alarm:
            reason = {"zh-CN": f"{_ZH[kind]}报警{at_zh}", "en": f"{_EN[kind]} alarm{at_en}"}
            return [Finding(device_id, kind, "high", ts, ev, reason)]
        reason = {
            "zh-CN": f"{_ZH[kind]}报警已解除{at_zh}",
            "en": f"{_EN[kind]} alarm cleared{at_en}",
        }
        return [Finding(device_id, f"{kind}_cleared", "low", ts, ev, reason)]

    # --- room temperature ------------------------------------------------------------

    def update(
        self, device_id: str, ts: ArrayLike, room_temp: ArrayLike, now: float,
        *, room: str | None = None,
    ) -> list[Finding]:  # fmt: skip
        """Consume a batch of room temperature readings (°C) of one device."""
        t = np.atleast_1d(np.asarray(ts, dtype=np.float64))
        v = np.atleast_1d(np.asarray(room_temp, dtype=np.float64))
        if t.shape != v.shape or t.ndim != 1:
            raise ValueError(f"ts and room_temp must be 1-d of one length: {t.shape}, {v.shape}")
        ok = np.isfinite(t) & np.isfinite(v)
        future = ok & (t > now + self.max_future_s)
        self.ignored += int(future.sum())
        ok &= ~future
        order = np.argsort(t[ok], kind="stable")
        t, v = t[ok][order], v[ok][order]
        st = self._temps.setdefault(device_id, _Temp())
        out: list[Finding] = []
        for ti, vi in zip(t.tolist(), v.tolist(), strict=True):
            if ti <= st.last_ts:
                continue
            if ti - st.last_ts > self.max_gap_s:
                st.run = None  # a gap: persistence starts again
            st.last_ts = ti
            side = self._side(ti, vi, st)
            if side != st.run:
                st.run, st.run_start, st.extreme = side, ti, vi
            elif side == "cold":
                st.extreme = min(st.extreme, vi)
            elif side == "hot":
                st.extreme = max(st.extreme, vi)
            if side is not None and st.state is None and ti - st.run_start >= self.persist_s:
                st.state = side
                out.append(self._extreme(device_id, side, ti, vi, st, room))
            elif st.state is not None and self._inside(ti, vi, st):
                st.state = None
                out.append(self._cleared(device_id, ti, vi, room))
        return out

    def _hot_limit(self, ts: float, st: _Temp) -> float:
        if self.hot_night_c is None:
            return self.hot_c
        night = in_window((st.zone or self.zone).clock_s(ts), *self.night_h)
        return self.hot_night_c if night else self.hot_c

    def _side(self, ts: float, value: float, st: _Temp) -> str | None:
        if value < self.cold_c:
            return "cold"
        return "hot" if value > self._hot_limit(ts, st) else None

    def _inside(self, ts: float, value: float, st: _Temp) -> bool:
        h = self.hysteresis_c
        return self.cold_c + h <= value <= self._hot_limit(ts, st) - h

    def _extreme(
        self, device_id: str, side: str, ts: float, value: float, st: _Temp, room: str | None
    ) -> Finding:
        limit = self.cold_c if side == "cold" else self._hot_limit(ts, st)
        minutes = (ts - st.run_start) / 60
        ev: dict[str, EvidenceValue] = {
            "side": side, "room_temp_c": value, "limit_c": limit, "extreme_c": st.extreme,
            "minutes": round(minutes, 1), "room": room or "",
        }  # fmt: skip
        if side == "cold":
            zh = f"室温过低：{value:.1f} °C，已低于 {limit:g} °C 达 {minutes:.0f} 分钟"
            en = f"Room too cold: {value:.1f} °C, below {limit:g} °C for {minutes:.0f} min"
        else:
            zh = f"室温过高：{value:.1f} °C，已高于 {limit:g} °C 达 {minutes:.0f} 分钟"
            en = f"Room too hot: {value:.1f} °C, above {limit:g} °C for {minutes:.0f} min"
        return Finding(device_id, "room_temp", "medium", ts, ev, {"zh-CN": zh, "en": en})

    @staticmethod
    def _cleared(device_id: str, ts: float, value: float, room: str | None) -> Finding:
        ev: dict[str, EvidenceValue] = {"room_temp_c": value, "room": room or ""}
        reason = {
            "zh-CN": f"室温已恢复正常：{value:.1f} °C",
            "en": f"Room temperature back to normal: {value:.1f} °C",
        }
        return Finding(device_id, "room_temp_cleared", "low", ts, ev, reason)


__all__ = ["HAZARDS", "EnvironmentDetector"]
