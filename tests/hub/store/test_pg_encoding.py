"""Binary COPY encodes telemetry times as PostgreSQL's integer time stamps: the same value
the driver would send for the datetime every other query uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hub.store.postgres import PG_EPOCH, pg_micros, to_dt

PG_ZERO = datetime(2000, 1, 1, tzinfo=UTC)


def test_epoch_constant_is_2000_01_01_utc() -> None:
    assert datetime.fromtimestamp(PG_EPOCH, UTC) == PG_ZERO


# device clocks from 1971 to 2100, to the nanosecond and beyond
@given(st.floats(min_value=3.2e7, max_value=4.1e9, allow_nan=False, allow_infinity=False))
def test_micros_match_the_datetime_every_other_query_uses(ts: float) -> None:
    expected = (to_dt(ts) - PG_ZERO) // timedelta(microseconds=1)
    assert abs(pg_micros(ts) - expected) <= 1
    # exact where the float carries the microsecond unambiguously (ms-resolution device time)
    ms = round(ts * 1000) / 1000
    assert pg_micros(ms) == (to_dt(ms) - PG_ZERO) // timedelta(microseconds=1)
