"""A KPI period: whole local calendar days in a time zone (pure).

``first`` and ``last`` are calendar dates, both included, read in the zone of the station
(a station's KPIs) or the hub's default zone (a district's or a city's): the period runs
from local midnight of ``first`` to local midnight after ``last``. Without dates it is the
last :data:`DEFAULT_DAYS` days, today included. Figures are measured up to ``now`` at
most (:attr:`Period.measured_end`): a period reaching into the future is not counted as
devices offline.

>>> p = period("2026-03-01", "2026-03-31", "Asia/Shanghai", now=2e9)
>>> p.start, p.end  # 2026-02-28T16:00Z, 2026-03-31T16:00Z
(1772294400.0, 1774972800.0)
>>> period("2026-03-02", "2026-03-01", "UTC", now=2e9)
Traceback (most recent call last):
...
hub.kpi.period.PeriodError: the period ends (2026-03-01) before it starts (2026-03-02)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

from hub.errors import CarehubError
from hub.timezones import check_timezone, zone

DEFAULT_DAYS: Final = 30
MAX_DAYS: Final = 400
"""A year and a bit: a yearly report fits, a runaway query does not."""


class PeriodError(CarehubError, ValueError):
    """A period that cannot be measured: a malformed date, the end before the start, or
    longer than :data:`MAX_DAYS` (a ``ValueError`` too)."""


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date
    timezone: str
    start: float
    """Epoch seconds of local midnight starting ``first``."""
    end: float
    """Epoch seconds of local midnight after ``last``."""
    now: float

    @property
    def measured_end(self) -> float:
        """Where measuring stops: the end, or ``now`` when that is earlier (never before
        the start)."""
        return max(self.start, min(self.end, self.now))


def _date(value: str | date, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"{what} must be a date as YYYY-MM-DD, not {value[:40]!r}") from None


def _midnight(day: date, tz: str) -> float:
    return datetime.combine(day, time(0), tzinfo=zone(tz)).timestamp()


def period(
    first: str | date | None, last: str | date | None, tz: str, *, now: float,
    default_days: int = DEFAULT_DAYS,
) -> Period:  # fmt: skip
    """The period from ``first`` to ``last`` (both included) in zone ``tz``; a missing
    ``last`` is today there, a missing ``first`` is ``default_days`` days up to ``last``."""
    check_timezone(tz)
    today = datetime.fromtimestamp(now, zone(tz)).date()
    end_day = _date(last, "to") if last is not None else today
    start_day = (
        _date(first, "from") if first is not None else end_day - timedelta(days=default_days - 1)
    )
    if end_day < start_day:
        raise PeriodError(f"the period ends ({end_day}) before it starts ({start_day})")
    if (end_day - start_day).days + 1 > MAX_DAYS:
        raise PeriodError(f"the period is longer than {MAX_DAYS} days")
    start = _midnight(start_day, tz)
    end = _midnight(end_day + timedelta(days=1), tz)
    return Period(start_day, end_day, tz, start, end, now)
