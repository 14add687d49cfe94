"""What the activity detector remembers of one resident: the routine being learned, today's
observations, and the state of each rule (out, in the bathroom, out of bed, flagged)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hub.detect.activity.clock import DAY_S, LocalTime


def _hours() -> NDArray[np.bool_]:
    return np.zeros(24, dtype=bool)


def _weights() -> NDArray[np.float64]:
    return np.zeros(24)


@dataclass(slots=True)
class Resident:
    """Per-resident state; the rule modules read and change it."""

    zone: LocalTime
    status: str
    day: int
    """The local day being observed (committed to the routine when a later one starts)."""
    getups: deque[float]
    # routine: today's observations and the weighted sums over the days committed
    active: NDArray[np.bool_] = field(default_factory=_hours)
    exits: NDArray[np.bool_] = field(default_factory=_hours)
    excluded: NDArray[np.bool_] = field(default_factory=_hours)
    num: NDArray[np.float64] = field(default_factory=_weights)
    num_exit: NDArray[np.float64] = field(default_factory=_weights)
    den: NDArray[np.float64] = field(default_factory=_weights)
    days: int = 0
    events_today: int = 0
    up_at: float | None = None
    """Today's get-up (local seconds), once seen."""
    up_home: bool = False
    """The resident woke at home today: ``up_at`` is a get-up to learn (not a return)."""
    deadline: float | None = None
    since: float = math.inf
    """When the resident was first seen (the warm-up deadline needs a whole morning)."""
    latest: float = -math.inf
    last_activity: float | None = None
    device: str = ""
    room: str = ""
    away_since: float | None = None
    # silence: the finding raised on it, and since when
    flag: str | None = None
    flag_since: float = 0.0
    flag_day: int = -1
    # bathroom: a stay since ``bath_since``, judged once there is evidence of presence
    bath_since: float | None = None
    bath_level: int = 0
    bath_room: str = ""
    bath_present: bool = False
    bath_last: float | None = None
    """The last sign of the person in the bathroom."""
    bath_motion: float | None = None
    """The last bathroom motion (motion again within ``bathroom_repeat_s``: presence)."""
    # bed
    bed_out: float | None = None
    bed_flag: bool = False
    # exit door, and out of the home
    door_at: float | None = None
    door_name: str = ""
    out_since: float | None = None
    out_flag: bool = False

    def p(self) -> NDArray[np.float64]:
        """Learned probability of activity per local hour."""
        return np.divide(self.num, self.den, out=np.zeros(24), where=self.den > 0)

    def p_prior(self, prior_days: float) -> NDArray[np.float64]:
        """:meth:`p` with ``prior_days`` pseudo-days, half of them active, added."""
        return (self.num + prior_days / 2) / np.maximum(self.den + prior_days, 1e-12)

    def p_exit(self) -> NDArray[np.float64]:
        """Learned probability of leaving the home per local hour."""
        return np.divide(self.num_exit, self.den, out=np.zeros(24), where=self.den > 0)

    def exclude(self, start: float, end: float) -> None:
        """Mark the hours of the current day overlapping [start, end] as not observed."""
        day0 = self.zone.day_start(self.day)
        a, b = max(start, day0) - day0, min(end, day0 + DAY_S) - day0
        if b >= a:
            self.excluded[int(a // 3600) : min(24, int(b // 3600) + 1)] = True

    def end_bath(self) -> int:
        """Forget the bathroom stay; return the level it was flagged at (0: not)."""
        level = self.bath_level
        self.bath_since, self.bath_level, self.bath_present = None, 0, False
        self.bath_last = self.bath_motion = None
        return level

    def mark(self, ts: float, arr: NDArray[np.bool_]) -> None:
        """Set the hour of ``ts`` in one of today's arrays (a late event of another day: no)."""
        if self.zone.day(ts) == self.day:
            arr[self.zone.hour(ts)] = True
