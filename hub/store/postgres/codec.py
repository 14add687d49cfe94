"""Values at the PostgreSQL boundary: epoch seconds to ``timestamptz`` and back, the
binary COPY time stamp, the row mapping (:mod:`hub.store.rows`) with psycopg's decoders,
and the optional equality filters most queries take."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hub.store import rows as cols

PG_EPOCH = 946_684_800.0
"""2000-01-01 00:00 UTC in Unix seconds: PostgreSQL's zero for binary time stamps."""


def to_dt(ts: float) -> datetime:
    """Epoch seconds to an aware UTC datetime (rounded to the microsecond)."""
    return datetime.fromtimestamp(ts, UTC)


def opt_dt(ts: float | None) -> datetime | None:
    """:func:`to_dt`, None for None."""
    return None if ts is None else to_dt(ts)


def from_dt(value: datetime | None) -> float | None:
    """A ``timestamptz`` back to epoch seconds, None for None."""
    return None if value is None else value.timestamp()


def pg_micros(ts: float) -> int:
    """Epoch seconds as PostgreSQL's binary time stamp (microseconds since 2000-01-01 UTC),
    rounded half to even like ``datetime.fromtimestamp``.

    >>> pg_micros(946_684_800.0), pg_micros(946_684_801.25)
    (0, 1250000)
    """
    return round((ts - PG_EPOCH) * 1e6)


def filters(*conditions: tuple[str, Any], **equal: Any) -> tuple[str, list[Any]]:
    """`` WHERE a = %s AND ...`` for the arguments that are not None (names are ours), then
    each of ``conditions``, a clause with one ``%s`` and its value, also left out when None.

    >>> filters(("at >= %s", 5.0), device_id="w-1", code=None)
    (' WHERE device_id = %s AND at >= %s', ['w-1', 5.0])
    >>> filters(("at >= %s", None))
    ('', [])
    """
    used = [(f"{k} = %s", v) for k, v in equal.items() if v is not None]
    used += [(clause, v) for clause, v in conditions if v is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(c for c, _ in used), [v for _, v in used]


ROWS = cols.Rows(ts=datetime.timestamp, opt_ts=from_dt, json=lambda v: v)
"""psycopg hands times back as aware datetimes and JSON already decoded (by orjson)."""
