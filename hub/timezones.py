"""Time zones: the hub's default, checking a zone name, and local wall-clock time (pure).

Every station keeps its own IANA time zone (``Station.timezone``); a station without one
uses the hub's default, ``CAREHUB_DEFAULT_TIMEZONE`` (:data:`DEFAULT_TIMEZONE` unless set).
Quiet hours, the night and morning rules of the detectors and the times written in
notifications are all read in the resident's station's zone.

A zone name is checked where it enters (settings, a station or a user being created or
changed): an unknown name is refused with :class:`UnknownTimezone`, never replaced by a
guess at run time.

>>> check_timezone("Europe/Paris")
'Europe/Paris'
>>> local_stamp(0.0, "Asia/Shanghai")
'1970-01-01 08:00'
>>> check_timezone("Mars/Base")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hub.timezones.UnknownTimezone: unknown time zone 'Mars/Base': use an IANA name such as ...
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import CarehubError

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The zone of stations that name none, unless ``CAREHUB_DEFAULT_TIMEZONE`` says otherwise."""


class UnknownTimezone(CarehubError, ValueError):  # noqa: N818 - reads as what the name is
    """A time zone name that is not in the IANA database (a ``ValueError`` too, so pydantic
    validators turn it into a validation error)."""


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def check_timezone(name: str) -> str:
    """``name`` when it is a known IANA zone, else :class:`UnknownTimezone`."""
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise UnknownTimezone(
            f"unknown time zone {name!r}: use an IANA name such as 'Asia/Shanghai' or "
            "'Europe/Paris'"
        ) from exc
    return name


def zone(name: str | None, default: str = DEFAULT_TIMEZONE) -> tzinfo:
    """The zone ``name`` (``default`` when None or empty). A name that no longer resolves
    (checked when stored, so only a system without that zone) falls back to UTC rather
    than stopping an alarm."""
    try:
        return _zone(name or default)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return UTC


def local(at: float, name: str | None, default: str = DEFAULT_TIMEZONE) -> datetime:
    """``at`` (epoch seconds) as a wall-clock time in zone ``name``."""
    return datetime.fromtimestamp(at, zone(name, default))


def local_stamp(at: float, name: str | None, default: str = DEFAULT_TIMEZONE) -> str:
    """``YYYY-MM-DD HH:MM`` of ``at`` in zone ``name``: how times are written for people."""
    return local(at, name, default).strftime("%Y-%m-%d %H:%M")


__all__ = [
    "DEFAULT_TIMEZONE",
    "UnknownTimezone",
    "check_timezone",
    "local",
    "local_stamp",
    "zone",
]
