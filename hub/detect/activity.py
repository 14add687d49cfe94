"""Activity of a resident at home from motion, door, bed and toilet sensors.

State is kept per **resident** (a home has several sensors, usually behind one gateway) and
the detector assumes one monitored person per home. Everything is pure: the hub passes the
events with times already on its own clock (device time minus the estimated clock offset,
see :meth:`SensorEvent.from_accepted`) and calls :meth:`ActivityDetector.tick` periodically.

**Routine.** For every local hour of the day the detector learns how often the resident
is active in it: a day is a vector ``x[h] ∈ {0, 1}`` (any activity event in hour ``h``) and
``p[h] = Σ wᵢ xᵢ[h] / Σ wᵢ`` over the observed days with weights halving every
``halflife_days`` observed days (an exponentially weighted mean, like river's EWMean but
bias-corrected). Hours are *not* observed while the resident is away or in hospital, before
the resident was first seen, and over a silence that was flagged (a detector does not learn
its baseline from what it flagged); days with no event at all (a dead gateway, a gap of days)
are skipped. The first activity after ``morning_start_h`` is the day's get-up time; the
upper ``getup_quantile`` of the last ``getup_days`` get-up times plus ``not_up_margin_s`` is
the morning deadline. Routine-based findings wait for ``grace_period`` learned days, with
one exception: a new resident is not left without a morning check while the routine is
learned. Until then ``not_up`` uses the fixed local deadline ``warmup_not_up_h`` (09:00 by
default, the usual morning call of home-care services; ``None`` turns it off), from the first
morning the detector watched whole (the resident was seen before ``morning_start_h``).

**Findings** (``device_id`` is the sensor that last spoke for the resident; the evidence
always carries ``resident_id``):

- ``inactivity`` (medium): the chance of a silence this long on a routine day,
  ``Π (1 − p[h])^(fraction of hour h silent)``, fell below ``inactivity_p`` and the silence
  lasted ``min_inactivity_s`` — so the threshold is short in hours the resident is nearly
  always active and long in hours they often rest.
- ``not_up`` (medium): no activity today by the learned morning deadline (during the
  warm-up, by ``warmup_not_up_h``).
- ``night_exit`` (high, wandering risk in dementia): an exit door opened at night and no
  indoor activity followed within ``exit_confirm_s`` (``exit_settle_s`` after the door are
  ignored: that is the person walking out past the hall sensor). An hour in which the
  resident routinely leaves (``p_exit[h] ≥ routine_exit_p``) is not "night".
- ``long_bathroom`` (medium after ``bathroom_s``, high after ``bathroom_high_s``): toilet
  presence, or bathroom motion without activity in another room since.
- ``out_of_bed`` (medium): a bed exit at night without return within ``out_of_bed_s``, when
  the return deadline itself is still night; once the routine is learned, a bed exit after
  ``morning_start_h`` and at most ``getup_early_s`` before the resident's earliest usual
  get-up (the ``1 - getup_quantile`` quantile) is the morning get-up of an early riser, not
  a night-time excursion.
- ``activity_resumed`` (low, evidence ``clears``): the person the finding was about is
  active again, back in bed, out of the bathroom or back home, so the alert can clear.

Thresholds are operational defaults, not clinical evidence: the literature motivates *what*
is watched (falls in older people happen mostly at home and often in the bathroom or at
night, Stevens et al., J Safety Res 42(4), 2011; night-time wandering in dementia, Rowe &
Glover, Am J Alzheimers Dis Other Demen 16(6), 2001), but the minutes are tuned per
resident by the care station. While the resident's status is not ``home`` no finding fires.

**Horizon.** Every rule above that fires on the *absence* of an event (a silence, a stay
not ended, a return that did not come) judges time only up to ``min(now, horizon)``:
``horizon`` is the receive time of the oldest message the hub holds but has not passed on
yet (a backlog, a slow commit, a store outage), and beyond it the detector cannot know
that nothing happened. Findings are stamped ``now``; their minutes count up to the horizon.
Events are sorted per batch; an event older than what was already processed still counts as
activity and for the routine, but no longer changes the bed/bathroom/door state. Time never
runs backwards inside the detector: a ``now`` older than one seen before is taken as that.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from hub.detect.findings import EvidenceValue, Finding, Priority, judged_until
from hub.timezones import zone

ResidentStatus = Literal["home", "away", "hospital", "inactive"]
ACTIVITY_TYPES = frozenset({"motion", "door", "bed", "toilet", "button", "sos"})
BATHROOMS = frozenset(
    {"bathroom", "toilet", "restroom", "wc", "washroom", "卫生间", "厕所", "浴室"}
)
EXIT_DOORS = frozenset({"front", "main", "entrance", "entry", "大门", "入户门", "前门"})
DAY_S = 86_400.0
_KIND_ZH = {"inactivity": "长时间无活动", "not_up": "早上未起床", "night_exit": "夜间外出",
            "long_bathroom": "卫生间停留过久", "out_of_bed": "夜间离床未归"}  # fmt: skip


class LocalTime:
    """Local wall-clock arithmetic for one zone; no I/O after construction.

    >>> LocalTime(utc_offset_s=8 * 3600).hour(0.0)  # 1970-01-01T08:00+08:00
    8
    """

    def __init__(self, tz: str | None = None, utc_offset_s: float = 8 * 3600.0) -> None:
        self.tz = tz
        self.utc_offset_s = utc_offset_s
        self._zone: tzinfo | None = zone(tz) if tz else None

    def offset(self, ts: float) -> float:
        if self._zone is None:
            return self.utc_offset_s
        delta = datetime.fromtimestamp(ts, UTC).astimezone(self._zone).utcoffset()
        return delta.total_seconds() if delta is not None else 0.0

    def day(self, ts: float) -> int:
        """Local calendar day number (days since 1970-01-01 local)."""
        return math.floor((ts + self.offset(ts)) / DAY_S)

    def clock_s(self, ts: float) -> float:
        """Seconds since local midnight."""
        return (ts + self.offset(ts)) % DAY_S

    def hour(self, ts: float) -> int:
        return int(self.clock_s(ts) // 3600)

    def day_start(self, day: int) -> float:
        """Epoch seconds of local midnight starting ``day``."""
        local = day * DAY_S
        return local - self.offset(local - self.offset(local))


@dataclass(frozen=True, slots=True)
class SensorEvent:
    """One home-sensor event of a resident, time on the hub clock (epoch seconds)."""

    resident_id: str
    device_id: str
    type: str
    ts: float
    room: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Type-specific fields: ``active`` (motion), ``open``/``door`` (door), ``occupied``."""

    @classmethod
    def from_accepted(cls, resident_id: str, accepted: Any) -> SensorEvent:
        """Build from an accepted event message (``hub.ingest.core.Accepted``), correcting the
        device time by the estimated clock offset."""
        m = accepted.message
        offset = accepted.clock_offset_s or 0.0
        names = ("active", "open", "door", "occupied")
        fields = {n: getattr(m, n) for n in names if getattr(m, n, None) is not None}
        return cls(resident_id, accepted.device.id, m.type, float(m.ts) - offset, m.room, fields)


def in_window(clock_s: float, start_h: float, end_h: float) -> bool:
    """Whether a local clock time lies in the hour window [start_h, end_h) (may wrap)."""
    h = clock_s / 3600.0
    return start_h <= h < end_h if start_h <= end_h else (h >= start_h or h < end_h)


def _hhmm(clock_s: float) -> str:
    return f"{int(clock_s // 3600) % 24:02d}:{int(clock_s % 3600 // 60):02d}"


@dataclass(slots=True)
class _Resident:
    zone: LocalTime
    status: str
    day: int
    getups: deque[float]
    active: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(24, dtype=bool))
    exits: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(24, dtype=bool))
    excluded: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(24, dtype=bool))
    num: NDArray[np.float64] = field(default_factory=lambda: np.zeros(24))
    num_exit: NDArray[np.float64] = field(default_factory=lambda: np.zeros(24))
    den: NDArray[np.float64] = field(default_factory=lambda: np.zeros(24))
    days: int = 0
    events_today: int = 0
    up_at: float | None = None
    deadline: float | None = None
    since: float = math.inf
    """When the resident was first seen (the warm-up deadline needs a whole morning)."""
    latest: float = -math.inf
    last_activity: float | None = None
    device: str = ""
    room: str = ""
    away_since: float | None = None
    flag: str | None = None
    flag_since: float = 0.0
    flag_day: int = -1
    bath_since: float | None = None
    bath_level: int = 0
    bath_room: str = ""
    bed_out: float | None = None
    bed_flag: bool = False
    door_at: float | None = None
    door_name: str = ""
    out_since: float | None = None
    out_flag: bool = False

    def p(self) -> NDArray[np.float64]:
        return np.divide(self.num, self.den, out=np.zeros(24), where=self.den > 0)

    def p_exit(self) -> NDArray[np.float64]:
        return np.divide(self.num_exit, self.den, out=np.zeros(24), where=self.den > 0)

    def exclude(self, start: float, end: float) -> None:
        """Mark the hours of the current day overlapping [start, end] as not observed."""
        day0 = self.zone.day_start(self.day)
        a, b = max(start, day0) - day0, min(end, day0 + DAY_S) - day0
        if b >= a:
            self.excluded[int(a // 3600) : min(24, int(b // 3600) + 1)] = True


class ActivityDetector:
    """Routine-aware activity findings per resident; see the module docstring.

    Examples
    --------
    >>> det = ActivityDetector()
    >>> det.update([SensorEvent("r-1", "m-1", "motion", 1.7e9, "kitchen", {"active": True})],
    ...            now=1.7e9)
    []
    """

    def __init__(
        self,
        *,
        grace_period: int = 7,
        halflife_days: float = 14.0,
        inactivity_p: float = 0.01,
        min_inactivity_s: float = 2 * 3600.0,
        max_hour_p: float = 0.98,
        morning_start_h: float = 5.0,
        getup_days: int = 28,
        getup_quantile: float = 0.9,
        not_up_margin_s: float = 3600.0,
        warmup_not_up_h: float | None = 9.0,
        getup_early_s: float = 1800.0,
        night_h: tuple[float, float] = (22.0, 6.0),
        exit_settle_s: float = 120.0,
        exit_confirm_s: float = 600.0,
        routine_exit_p: float = 0.3,
        bathroom_s: float = 40 * 60.0,
        bathroom_high_s: float = 60 * 60.0,
        out_of_bed_s: float = 30 * 60.0,
        bathrooms: frozenset[str] = BATHROOMS,
        exit_doors: frozenset[str] = EXIT_DOORS,
        utc_offset_s: float = 8 * 3600.0,
    ) -> None:
        if not 0.0 < inactivity_p < 1.0 or not 0.0 < max_hour_p < 1.0:
            raise ValueError("inactivity_p and max_hour_p must lie in (0, 1)")
        if bathroom_high_s < bathroom_s:
            raise ValueError("bathroom_high_s must not be shorter than bathroom_s")
        self.grace_period = grace_period
        self.halflife_days = halflife_days
        self.inactivity_p = inactivity_p
        self.min_inactivity_s = min_inactivity_s
        self.max_hour_p = max_hour_p
        self.morning_start_h = morning_start_h
        self.getup_days = getup_days
        self.getup_quantile = getup_quantile
        self.not_up_margin_s = not_up_margin_s
        if warmup_not_up_h is not None and not morning_start_h < warmup_not_up_h < 24.0:
            raise ValueError("warmup_not_up_h must lie between morning_start_h and 24")
        self.warmup_not_up_h = warmup_not_up_h
        self.getup_early_s = getup_early_s
        self.night_h = night_h
        self.exit_settle_s = exit_settle_s
        self.exit_confirm_s = exit_confirm_s
        self.routine_exit_p = routine_exit_p
        self.bathroom_s = bathroom_s
        self.bathroom_high_s = bathroom_high_s
        self.out_of_bed_s = out_of_bed_s
        self.bathrooms = frozenset(r.casefold() for r in bathrooms)
        self.exit_doors = frozenset(d.casefold() for d in exit_doors)
        self.utc_offset_s = utc_offset_s
        self.decay = 0.5 ** (1.0 / halflife_days)
        self.ignored = 0
        """Events skipped: unknown type or a non-finite time."""
        self._res: dict[str, _Resident] = {}
        self._now = -math.inf

    # --- residents -------------------------------------------------------------------

    def configure(
        self,
        resident_id: str,
        now: float,
        *,
        status: ResidentStatus | None = None,
        tz: str | None = None,
        utc_offset_s: float | None = None,
    ) -> None:
        """Set a resident's time zone (a tz name, or a fixed offset) and/or status."""
        now = self._clock(now)
        st = self._state(resident_id, now)
        if tz is not None or utc_offset_s is not None:
            st.zone = LocalTime(tz, self.utc_offset_s if utc_offset_s is None else utc_offset_s)
            st.day = st.zone.day(now)
        if status is not None:
            self.set_status(resident_id, status, now)

    def set_status(self, resident_id: str, status: ResidentStatus, now: float) -> None:
        """Home, away, hospital or inactive; only ``home`` residents get findings."""
        if status not in ("home", "away", "hospital", "inactive"):
            raise ValueError(f"unknown resident status {status!r}")
        now = self._clock(now)
        st = self._state(resident_id, now)
        self._roll(st, now)
        if status == "home" and st.status != "home":
            if st.away_since is not None:
                st.exclude(st.away_since, now)
            st.away_since = None
            st.last_activity = now  # a silence is counted from the return
            if st.up_at is None:  # back home counts as up, but is no get-up time to learn
                st.up_at, st.flag_day = st.zone.clock_s(now), st.day
        elif status != "home" and st.status == "home":
            st.away_since = now
            st.flag, st.bath_since, st.bed_out, st.door_at, st.out_since = (None,) * 5
            st.bed_flag = st.out_flag = False
        st.status = status

    def forget(self, resident_id: str) -> None:
        self._res.pop(resident_id, None)

    @property
    def residents(self) -> int:
        return len(self._res)

    def routine(self, resident_id: str) -> NDArray[np.float64]:
        """Learned probability of activity per local hour (zeros for an unknown resident)."""
        st = self._res.get(resident_id)
        return st.p() if st is not None else np.zeros(24)

    def days_learned(self, resident_id: str) -> int:
        st = self._res.get(resident_id)
        return st.days if st is not None else 0

    def _clock(self, now: float) -> float:
        if not math.isfinite(now):
            raise ValueError("now must be a finite time")
        self._now = max(self._now, now)
        return self._now

    def _state(self, resident_id: str, now: float) -> _Resident:
        st = self._res.get(resident_id)
        if st is None:
            zone = LocalTime(None, self.utc_offset_s)
            st = _Resident(zone, "home", zone.day(now), deque(maxlen=self.getup_days))
            st.exclude(-math.inf, now - 1.0)  # hours before the resident was first seen
            st.since = now
            self._res[resident_id] = st
        return st

    # --- routine ---------------------------------------------------------------------

    def _roll(self, st: _Resident, now: float) -> None:
        """Commit the finished local day(s) to the routine when ``now`` is in a later one."""
        today = st.zone.day(now)
        if today <= st.day:
            return
        held = st.away_since if st.away_since is not None else None
        if st.flag is not None:
            held = st.flag_since if held is None else min(held, st.flag_since)
        if held is not None:
            st.exclude(held, math.inf)
        if st.events_today > 0:
            seen = ~st.excluded
            d = self.decay
            st.den[seen] = d * st.den[seen] + 1.0
            st.num[seen] = d * st.num[seen] + st.active[seen]
            st.num_exit[seen] = d * st.num_exit[seen] + st.exits[seen]
            st.days += 1
            if st.up_at is not None and st.flag_day != st.day:
                st.getups.append(st.up_at)
            st.deadline = self._deadline(st)  # get-ups change only here: compute once a day
        st.day = today
        st.active[:] = False
        st.exits[:] = False
        st.excluded[:] = False
        st.events_today, st.up_at = 0, None

    def _mark(self, st: _Resident, ts: float, arr: NDArray[np.bool_]) -> None:
        if st.zone.day(ts) == st.day:
            arr[st.zone.hour(ts)] = True

    def _getups_learned(self, st: _Resident) -> bool:
        return st.days >= self.grace_period and len(st.getups) >= max(1, min(self.grace_period, 3))

    def _deadline(self, st: _Resident) -> float | None:
        """Not-up deadline (seconds after local midnight) from the learned get-up times."""
        if not self._getups_learned(st):
            return None
        q = float(np.quantile(np.fromiter(st.getups, float), self.getup_quantile))
        return q + self.not_up_margin_s

    # --- streaming -------------------------------------------------------------------

    def update(
        self, events: Sequence[SensorEvent], now: float, *, horizon: float = math.inf
    ) -> list[Finding]:
        """Consume a batch of events (any residents, any order); return the findings.

        Absences are judged up to ``min(now, horizon)`` (see :meth:`tick`)."""
        now = self._clock(now)
        judged = judged_until(now, horizon)
        out: list[Finding] = []
        touched: dict[str, _Resident] = {}
        valid = []
        for e in events:
            if e.type in ACTIVITY_TYPES and math.isfinite(e.ts):
                valid.append(e)
            else:
                self.ignored += 1
        for e in sorted(valid, key=lambda e: e.ts):
            st = touched.get(e.resident_id)
            if st is None:
                st = touched[e.resident_id] = self._state(e.resident_id, now)
            ts = min(e.ts, now)
            self._roll(st, ts)  # a batch may straddle midnight: yesterday's events count
            if st.status == "home":
                out += self._event(e.resident_id, st, e, ts, now)
        if not math.isfinite(judged):  # nothing is known yet: nothing to judge
            return out
        for rid, st in touched.items():
            self._roll(st, judged)
            out += self._check(rid, st, judged, now)
        return out

    def tick(self, now: float, *, horizon: float = math.inf) -> list[Finding]:
        """Time-based findings of every resident at ``now`` (call every minute or so).

        ``horizon``: the receive time up to which every event has been passed to
        :meth:`update`. Absences are judged up to ``min(now, horizon)``, so events that
        wait in the hub (a backlog) do not make a short stay look long; a horizon that
        goes backwards holds judgement back, and what was found stays found."""
        now = self._clock(now)
        judged = judged_until(now, horizon)
        if not math.isfinite(judged):
            return []
        out: list[Finding] = []
        for rid, st in self._res.items():
            self._roll(st, judged)
            out += self._check(rid, st, judged, now)
        return out

    def _event(
        self, rid: str, st: _Resident, e: SensorEvent, ts: float, now: float
    ) -> list[Finding]:
        f = e.fields
        if e.type == "motion" and f.get("active") is False:
            return []  # the room became still: not a sign of life
        out: list[Finding] = []
        st.events_today += 1
        self._mark(st, ts, st.active)
        if st.last_activity is None or ts > st.last_activity:
            st.last_activity, st.device, st.room = ts, e.device_id, e.room or st.room
        in_bed = e.type == "bed" and f.get("occupied") is True
        clock = st.zone.clock_s(ts)
        morning = clock >= self.morning_start_h * 3600
        if st.up_at is None and not in_bed and morning and st.zone.day(ts) == st.day:
            st.up_at = clock
        if st.flag is not None and ts > st.flag_since:
            st.exclude(st.flag_since, ts)
            out.append(self._resumed(rid, e.device_id, st.flag, now, ts))
            st.flag = None
        if ts < st.latest:
            return out  # late: counted as activity, but the state machines moved on
        st.latest = ts
        out += self._presence(rid, st, e, ts, now)
        out += self._bath(rid, st, e, ts, now)
        if e.type == "bed":
            if f.get("occupied") is not False:
                if st.bed_flag:
                    out.append(self._resumed(rid, e.device_id, "out_of_bed", now, ts))
                st.bed_out, st.bed_flag = None, False
            elif not in_window(clock, *self.night_h):
                st.bed_out = None
            elif st.bed_out is None:
                st.bed_out = ts
        return out

    def _presence(
        self, rid: str, st: _Resident, e: SensorEvent, ts: float, now: float
    ) -> list[Finding]:
        """Exit-door openings and the indoor activity that proves someone is home."""
        door = str(e.fields.get("door") or "front")
        if e.type == "door" and door.casefold() in self.exit_doors:
            if e.fields.get("open") is True:
                st.door_at, st.door_name = ts, door
            return []
        if st.door_at is not None and ts > st.door_at + self.exit_settle_s:
            st.door_at = None  # someone is inside: nobody left
        if st.out_since is None or ts <= st.out_since + self.exit_settle_s:
            return []
        # back home: the door that just opened was the way in, not a new exit
        st.out_since, st.door_at, flagged, st.out_flag = None, None, st.out_flag, False
        return [self._resumed(rid, e.device_id, "night_exit", now, ts)] if flagged else []

    def _bath(
        self, rid: str, st: _Resident, e: SensorEvent, ts: float, now: float
    ) -> list[Finding]:
        """A bathroom stay starts with toilet presence or bathroom motion and ends with a
        toilet vacancy or a sign of the person elsewhere."""
        room = (e.room or "").casefold()
        occupied = e.fields.get("occupied") is True
        if (e.type == "toilet" and occupied) or (e.type == "motion" and room in self.bathrooms):
            if st.bath_since is None:
                st.bath_since, st.bath_level, st.bath_room = ts, 0, e.room or "bathroom"
            return []
        # a button or a sensor without a room says nothing about where the person is
        if st.bath_since is None or not (e.type in ("door", "bed", "toilet") or room):
            return []
        flagged, st.bath_since, st.bath_level = st.bath_level, None, 0
        return [self._resumed(rid, e.device_id, "long_bathroom", now, ts)] if flagged else []

    def _check(self, rid: str, st: _Resident, judged: float, now: float) -> list[Finding]:
        """Findings on absences up to ``judged``, stamped ``now``."""
        if st.status != "home":
            return []
        out: list[Finding] = []
        if st.door_at is not None and judged - st.door_at >= self.exit_confirm_s:
            out += self._left(rid, st, st.door_at, judged, now)
        if st.bath_since is not None:
            stay = judged - st.bath_since
            level = 2 if stay >= self.bathroom_high_s else 1 if stay >= self.bathroom_s else 0
            if level > st.bath_level:
                st.bath_level = level
                out.append(self._bathroom(rid, st, stay, now, "high" if level == 2 else "medium"))
        if st.bed_out is not None and not st.bed_flag and judged - st.bed_out >= self.out_of_bed_s:
            due = st.zone.clock_s(st.bed_out + self.out_of_bed_s)
            if in_window(due, *self.night_h) and not self._usual_getup(st, st.bed_out):
                st.bed_flag = True
                out.append(self._out_of_bed(rid, st, judged, now))
        if st.flag is None and st.out_since is None and st.last_activity is not None:
            out += self._silence(rid, st, judged, now)
        return out

    def _left(
        self, rid: str, st: _Resident, door_at: float, judged: float, now: float
    ) -> list[Finding]:
        st.door_at, st.out_since = None, door_at
        st.bath_since, st.bed_out, st.bath_level = None, None, 0
        self._mark(st, door_at, st.exits)
        hour = st.zone.hour(door_at)
        p_exit = float(st.p_exit()[hour])
        routine = st.days >= self.grace_period and p_exit >= self.routine_exit_p
        if not in_window(st.zone.clock_s(door_at), *self.night_h) or routine:
            return []
        st.out_flag = True
        at = _hhmm(st.zone.clock_s(door_at))
        minutes = (judged - door_at) / 60
        ev: dict[str, EvidenceValue] = {
            "door": st.door_name,
            "door_at": door_at,
            "minutes": round(minutes, 1),
            "usual_exit_p": round(p_exit, 3),
            "days_learned": st.days,
        }
        zh = f"夜间 {at} 大门打开后屋内 {minutes:.0f} 分钟无活动，老人可能已外出"
        en = f"Front door opened at {at} at night, no movement inside for {minutes:.0f} min"
        return [self._finding(rid, st.device, "night_exit", "high", now, ev, zh, en)]

    def _usual_getup(self, st: _Resident, ts: float) -> bool:
        """Is a bed exit at ``ts`` this resident's morning get-up (learned routine: after
        ``morning_start_h`` and no earlier than ``getup_early_s`` before the earliest usual
        get-up, the ``1 - getup_quantile`` quantile)? An early riser is not out of bed at
        night."""
        if not self._getups_learned(st):
            return False
        clock = st.zone.clock_s(ts)
        if clock < self.morning_start_h * 3600:
            return False
        early = float(np.quantile(np.fromiter(st.getups, float), 1.0 - self.getup_quantile))
        return clock >= early - self.getup_early_s

    def _warmup_deadline(self, st: _Resident) -> float | None:
        """The fixed not-up deadline of the warm-up, once a whole morning was watched."""
        if self.warmup_not_up_h is None:
            return None
        morning = st.zone.day_start(st.day) + self.morning_start_h * 3600
        return self.warmup_not_up_h * 3600 if st.since <= morning else None

    def _silence(self, rid: str, st: _Resident, judged: float, now: float) -> list[Finding]:
        # an event past the horizon may have begun a later local day: the morning and the
        # hours of the day being judged are then no longer the ones held in ``st``
        if st.last_activity is None or st.zone.day(judged) != st.day:
            return []
        learned = st.days >= self.grace_period
        clock = st.zone.clock_s(judged)
        deadline = st.deadline if learned else self._warmup_deadline(st)
        silent = judged - st.last_activity
        common: dict[str, EvidenceValue] = {
            "last_activity": st.last_activity,
            "room": st.room,
            "days_learned": st.days,
            "minutes": round(silent / 60, 1),
        }
        if deadline is not None and st.up_at is None and clock >= self.morning_start_h * 3600:
            if clock < deadline:
                return []  # the morning belongs to not_up: one finding per silence
            return [self._not_up(rid, st, now, deadline, learned, common)]
        if not learned or silent < self.min_inactivity_s:
            return []
        p = st.p()
        start = max(st.last_activity, judged - 2 * DAY_S)
        chance = math.exp(self._log_quiet(st, p, start, judged))
        if chance >= self.inactivity_p:
            return []
        hour_p = float(p[st.zone.hour(judged)])
        ev = {**common, "usual_hour_p": round(hour_p, 3), "chance": round(chance, 5)}
        m = silent / 60
        zh = f"已 {m:.0f} 分钟无活动，此时段平时 {hour_p:.0%} 的日子有活动"
        en = f"No activity for {m:.0f} min at a time the resident is active on {hour_p:.0%} of days"
        return [self._flag(rid, st, "inactivity", now, ev, zh, en)]

    def _not_up(
        self, rid: str, st: _Resident, now: float, deadline: float, learned: bool,
        common: dict[str, EvidenceValue],
    ) -> Finding:  # fmt: skip
        due = _hhmm(deadline)
        if not learned:
            ev = {**common, "deadline": due, "warmup": True}
            zh = f"到 {due} 仍未见起床活动（作息尚在学习，已观察 {st.days} 天）"
            en = f"Not up by {due} (routine still being learned: {st.days} days)"
            return self._flag(rid, st, "not_up", now, ev, zh, en)
        usual = _hhmm(deadline - self.not_up_margin_s)
        ev = {**common, "deadline": due, "usual_getup": usual}
        zh = f"到 {due} 仍未见起床活动（平时约 {usual} 前起床）"
        en = f"Not up by {due} (usually up by {usual})"
        return self._flag(rid, st, "not_up", now, ev, zh, en)

    def _log_quiet(self, st: _Resident, p: NDArray[np.float64], start: float, end: float) -> float:
        """log Π (1 − p[h])^(fraction of hour h in [start, end])."""
        log_q = np.log1p(-np.minimum(p, self.max_hour_p))
        total, t = 0.0, start
        while t < end:
            step = min(end, t + 3600.0 - st.zone.clock_s(t) % 3600.0) - t
            total += float(log_q[st.zone.hour(t)]) * step / 3600.0
            t += max(step, 1.0)
        return total

    # --- findings --------------------------------------------------------------------

    def _flag(
        self, rid: str, st: _Resident, kind: str, now: float,
        ev: dict[str, EvidenceValue], zh: str, en: str,
    ) -> Finding:  # fmt: skip
        st.flag, st.flag_since, st.flag_day = kind, st.last_activity or now, st.day
        return self._finding(rid, st.device, kind, "medium", now, ev, zh, en)

    def _bathroom(
        self, rid: str, st: _Resident, stay: float, now: float, prio: Priority
    ) -> Finding:
        m = stay / 60
        ev: dict[str, EvidenceValue] = {
            "minutes": round(m, 1),
            "room": st.bath_room,
            "since": st.bath_since or now,
        }
        zh, en = f"在卫生间已停留 {m:.0f} 分钟", f"In the bathroom for {m:.0f} min"
        return self._finding(rid, st.device, "long_bathroom", prio, now, ev, zh, en)

    def _out_of_bed(self, rid: str, st: _Resident, judged: float, now: float) -> Finding:
        since = st.bed_out or judged
        at, m = _hhmm(st.zone.clock_s(since)), (judged - since) / 60
        ev: dict[str, EvidenceValue] = {"since": since, "minutes": round(m, 1), "room": st.room}
        zh = f"夜间 {at} 离床，{m:.0f} 分钟未回到床上"
        en = f"Out of bed since {at} at night, not back after {m:.0f} min"
        return self._finding(rid, st.device, "out_of_bed", "medium", now, ev, zh, en)

    def _resumed(self, rid: str, device: str, kind: str, now: float, ts: float) -> Finding:
        ev: dict[str, EvidenceValue] = {"clears": kind, "activity_at": ts}
        zh = f"已恢复活动（{_KIND_ZH.get(kind, kind)}）"
        en = f"Activity resumed ({kind.replace('_', ' ')})"
        return self._finding(rid, device, "activity_resumed", "low", now, ev, zh, en)

    @staticmethod
    def _finding(
        rid: str, device: str, kind: str, prio: Priority, now: float,
        ev: dict[str, EvidenceValue], zh: str, en: str,
    ) -> Finding:  # fmt: skip
        return Finding(device or rid, kind, prio, now, {"resident_id": rid, **ev},
                       {"zh-CN": zh, "en": en})  # fmt: skip


__all__ = ["ActivityDetector", "LocalTime", "SensorEvent", "in_window"]
