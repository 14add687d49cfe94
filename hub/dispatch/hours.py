"""A care worker's weekly working hours, read in the station's time zone, as absolute
shifts (epoch seconds).

Hours are a mapping weekday → spans: ``{"0": [["08:00", "12:00"], ["13:00", "17:30"]]}``
with ``"0"`` Monday … ``"6"`` Sunday. A span whose end is not after its start runs past
midnight (``["22:00", "06:00"]``); ``"24:00"`` is the end of the day. Shifts that touch are
merged, so a visit may run from one span into the next.

>>> from hub.dispatch.hours import check_hours, shifts_between
>>> hours = check_hours({"3": [["08:00", "12:00"], ["12:00", "17:00"]]})
>>> t0 = 1_767_225_600.0  # Thursday 2026-01-01 08:00 in Shanghai
>>> [(s - t0) / 3600 for s, e in shifts_between(hours, "Asia/Shanghai", t0, t0 + 3600)]
[0.0]
>>> [(e - s) / 3600 for s, e in shifts_between(hours, "Asia/Shanghai", t0, t0 + 3600)]
[9.0]
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

Hours = dict[str, list[list[str]]]

_HHMM = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")


def check_hours(hours: Mapping[str, Sequence[Sequence[str]]]) -> Hours:
    """``hours`` when well formed (weekday keys ``"0"``–``"6"``, spans of two ``HH:MM``);
    a ``ValueError`` naming what is wrong otherwise."""
    out: Hours = {}
    for day, spans in hours.items():
        if day not in {str(d) for d in range(7)}:
            raise ValueError(f"weekday {day!r} is not 0 (Monday) to 6 (Sunday)")
        out[day] = []
        for span in spans:
            if len(span) != 2 or not all(isinstance(t, str) and _HHMM.match(t) for t in span):
                raise ValueError(f"span {list(span)!r} of weekday {day} is not [HH:MM, HH:MM]")
            if span[0] == span[1]:
                raise ValueError(f"span {list(span)!r} of weekday {day} is empty")
            out[day].append([span[0], span[1]])
    return out


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def shifts_between(
    hours: Hours, timezone: str, start: float, end: float
) -> list[tuple[float, float]]:
    """The shifts overlapping ``[start, end)``, merged when they touch, in time order."""
    zone = ZoneInfo(timezone)
    first = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, zone).date()
    raw: list[tuple[float, float]] = []
    day = first
    while day <= last:
        for a, b in hours.get(str(day.weekday()), []):
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
            m0, m1 = _minutes(a), _minutes(b)
            if m1 <= m0:
                m1 += 24 * 60
            s = (midnight + timedelta(minutes=m0)).timestamp()
            e = (midnight + timedelta(minutes=m1)).timestamp()
            raw.append((s, e))
        day += timedelta(days=1)
    merged: list[tuple[float, float]] = []
    for s, e in sorted(raw):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return [(s, e) for s, e in merged if s < end and e > start]
