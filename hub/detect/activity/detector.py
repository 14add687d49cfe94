"""The activity detector: routes each resident's events to the rules, ticks their absences.

Events are sorted per batch; an event older than what was already processed still counts as
activity and for the routine, but no longer changes the bed/bathroom/door state. Time never
runs backwards inside the detector: a ``now`` older than one seen before is taken as that.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hub.detect.activity import bathroom, bed, presence, silence
from hub.detect.activity.clock import LocalTime
from hub.detect.activity.events import ACTIVITY_TYPES, ResidentStatus, SensorEvent
from hub.detect.activity.params import Params
from hub.detect.activity.report import resumed
from hub.detect.activity.routine import roll
from hub.detect.activity.state import Resident
from hub.detect.findings import Finding, judged_until


@dataclass(kw_only=True, eq=False, repr=False)
class ActivityDetector(Params):
    """Routine-aware activity findings per resident; see :mod:`hub.detect.activity`.

    The hyperparameters are :class:`~hub.detect.activity.params.Params`, given as keyword
    arguments and kept as attributes under the same names.

    Examples
    --------
    >>> det = ActivityDetector()
    >>> det.update([SensorEvent("r-1", "m-1", "motion", 1.7e9, "kitchen", {"active": True})],
    ...            now=1.7e9)
    []
    """

    ignored: int = field(default=0, init=False)
    """Events skipped: unknown type or a non-finite time."""
    _res: dict[str, Resident] = field(default_factory=dict, init=False)
    _now: float = field(default=-math.inf, init=False)

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
        roll(self, st, now)
        if status == "home" and st.status != "home":
            if st.away_since is not None:
                st.exclude(st.away_since, now)
            st.away_since = None
            st.last_activity = now  # a silence is counted from the return
            if st.up_at is None:  # back home counts as up, but is no get-up time to learn
                st.up_at, st.up_home = st.zone.clock_s(now), False
        elif status != "home" and st.status == "home":
            st.away_since = now
            st.flag, st.bed_out, st.door_at, st.out_since = None, None, None, None
            st.bed_flag = st.out_flag = False
            st.end_bath()
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

    def learned(self, resident_id: str) -> dict[str, Any] | None:
        """The routine learned over the committed days (what takes days to rebuild) as
        plain values, for a cluster worker's snapshot; None for an unknown resident."""
        st = self._res.get(resident_id)
        if st is None:
            return None
        return {
            "num": st.num.tolist(), "num_exit": st.num_exit.tolist(), "den": st.den.tolist(),
            "days": st.days, "getups": list(st.getups), "since": _finite(st.since),
        }  # fmt: skip

    def restore_learned(self, resident_id: str, data: Mapping[str, Any], now: float) -> None:
        """Take back a routine from :meth:`learned` (a partition's new owner); today's
        observations come from replaying the stream after it."""
        st = self._state(resident_id, self._clock(now))
        st.num = np.asarray(data["num"], dtype=np.float64)
        st.num_exit = np.asarray(data["num_exit"], dtype=np.float64)
        st.den = np.asarray(data["den"], dtype=np.float64)
        st.days = int(data["days"])
        st.getups = deque((float(g) for g in data["getups"]), maxlen=self.getup_days)
        if data.get("since") is not None:
            st.since = min(st.since, float(data["since"]))

    def _clock(self, now: float) -> float:
        if not math.isfinite(now):
            raise ValueError("now must be a finite time")
        self._now = max(self._now, now)
        return self._now

    def _state(self, resident_id: str, now: float) -> Resident:
        st = self._res.get(resident_id)
        if st is None:
            zone = LocalTime(None, self.utc_offset_s)
            st = Resident(zone, "home", zone.day(now), deque(maxlen=self.getup_days))
            st.exclude(-math.inf, now - 1.0)  # hours before the resident was first seen
            st.since = now
            self._res[resident_id] = st
        return st

    # --- streaming -------------------------------------------------------------------

    def update(
        self, events: Sequence[SensorEvent], now: float, *, horizon: float = math.inf
    ) -> list[Finding]:
        """Consume a batch of events (any residents, any order); return the findings.

        Absences are judged up to ``min(now, horizon)`` (see :meth:`tick`)."""
        now = self._clock(now)
        judged = judged_until(now, horizon)
        out: list[Finding] = []
        touched: dict[str, Resident] = {}
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
            roll(self, st, ts)  # a batch may straddle midnight: yesterday's events count
            if st.status == "home":
                out += self._event(e.resident_id, st, e, ts, now)
        if not math.isfinite(judged):  # nothing is known yet: nothing to judge
            return out
        for rid, st in touched.items():
            roll(self, st, judged)
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
            roll(self, st, judged)
            out += self._check(rid, st, judged, now)
        return out

    def _event(
        self, rid: str, st: Resident, e: SensorEvent, ts: float, now: float
    ) -> list[Finding]:
        if e.type == "motion" and e.fields.get("active") is False:
            return []  # the room became still: not a sign of life
        out: list[Finding] = []
        st.events_today += 1
        st.mark(ts, st.active)
        if st.last_activity is None or ts > st.last_activity:
            st.last_activity, st.device, st.room = ts, e.device_id, e.room or st.room
        in_bed = e.type == "bed" and e.fields.get("occupied") is True
        clock = st.zone.clock_s(ts)
        morning = clock >= self.morning_start_h * 3600
        if st.up_at is None and not in_bed and morning and st.zone.day(ts) == st.day:
            # the day's first sign of life; a get-up to learn only if they woke at home, not
            # when it is the resident coming back (a night out, a weekend away)
            st.up_at, st.up_home = clock, st.out_since is None
        if st.flag is not None and ts > st.flag_since:
            st.exclude(st.flag_since, ts)
            out.append(resumed(rid, e.device_id, st.flag, now, ts))
            st.flag = None
        if ts < st.latest:
            return out  # late: counted as activity, but the state machines moved on
        st.latest = ts
        out += presence.on_event(self, rid, st, e, ts, now)
        out += bathroom.on_event(self, rid, st, e, ts, now)
        out += bed.on_event(self, rid, st, e, ts, now)
        return out

    def _check(self, rid: str, st: Resident, judged: float, now: float) -> list[Finding]:
        """Findings on absences up to ``judged``, stamped ``now``."""
        if st.status != "home":
            return []
        out = presence.check(self, rid, st, judged, now)
        out += bathroom.check(self, rid, st, judged, now)
        out += bed.check(self, rid, st, judged, now)
        if st.flag is None and st.out_since is None:
            out += silence.check(self, rid, st, judged, now)
        return out


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
