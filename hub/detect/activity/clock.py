"""Local wall-clock time of a resident: calendar days, hours and hour windows.

The detectors get times on the hub clock (epoch seconds); routines and night windows are
local. :class:`LocalTime` does that arithmetic for one zone (a tz name or a fixed offset)
with no I/O after construction.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo

from hub.timezones import zone

DAY_S = 86_400.0


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


def in_window(clock_s: float, start_h: float, end_h: float) -> bool:
    """Whether a local clock time lies in the hour window [start_h, end_h) (may wrap).

    >>> in_window(23 * 3600, 22, 6), in_window(12 * 3600, 22, 6)
    (True, False)
    """
    h = clock_s / 3600.0
    return start_h <= h < end_h if start_h <= end_h else (h >= start_h or h < end_h)


def hhmm(clock_s: float) -> str:
    """``HH:MM`` of a local clock time.

    >>> hhmm(7.5 * 3600)
    '07:30'
    """
    return f"{int(clock_s // 3600) % 24:02d}:{int(clock_s % 3600 // 60):02d}"
