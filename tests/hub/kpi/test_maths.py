"""The KPI maths: percentile_cont against numpy's linear percentile, ratios, periods."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as hs

from hub.kpi.maths import false_alarm_ratio, percentile_cont, percentiles, ratio
from hub.kpi.period import MAX_DAYS, PeriodError, period

finite = hs.floats(min_value=0.0, max_value=1e7, allow_nan=False)


@given(hs.lists(finite, min_size=1, max_size=50), hs.floats(min_value=0.0, max_value=1.0))
def test_percentile_matches_numpy_linear(values: list[float], p: float) -> None:
    got = percentile_cont(values, p)
    assert got == pytest.approx(float(np.percentile(values, p * 100)), rel=1e-12, abs=1e-9)
    assert min(values) <= got <= max(values)  # type: ignore[operator]


def test_percentile_edges() -> None:
    assert percentile_cont([], 0.9) is None
    assert percentile_cont([7.0], 0.9) == 7.0
    assert percentile_cont([3.0, 1.0, 2.0], 0.0) == 1.0
    assert percentile_cont([3.0, 1.0, 2.0], 1.0) == 3.0
    assert percentiles([10.0, 20.0], (0.5, 0.9)) == [15.0, 19.0]
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile_cont([1.0], 90)
    with pytest.raises(ValueError, match="NaN"):
        percentile_cont([1.0, math.nan], 0.5)


def test_ratios() -> None:
    assert ratio(0, 0) is None and ratio(0, 5) == 0.0
    assert false_alarm_ratio({}) is None
    assert false_alarm_ratio({"self_cleared": 4, "test": 2}) is None  # nobody judged any
    assert false_alarm_ratio({"false_alarm": 2, "real_emergency": 1, "device_fault": 1}) == 0.5


SHANGHAI_2026_03_01 = 1_772_294_400.0  # 2026-03-01T00:00+08:00


def test_a_period_is_whole_local_days_in_its_zone() -> None:
    p = period("2026-03-01", "2026-03-01", "Asia/Shanghai", now=2e9)
    assert (p.start, p.end) == (SHANGHAI_2026_03_01, SHANGHAI_2026_03_01 + 86_400.0)
    utc = period("2026-03-01", "2026-03-01", "UTC", now=2e9)
    assert utc.start - p.start == 8 * 3600.0


def test_a_day_across_a_daylight_saving_change_is_23_hours() -> None:
    p = period("2026-03-29", "2026-03-29", "Europe/Paris", now=2e9)  # clocks go forward
    assert p.end - p.start == 23 * 3600.0


def test_default_is_the_last_30_days_today_included_and_measured_up_to_now() -> None:
    now = SHANGHAI_2026_03_01 + 10 * 3600.0  # 10:00 in Shanghai on 1 March
    p = period(None, None, "Asia/Shanghai", now=now)
    assert str(p.first) == "2026-01-31" and str(p.last) == "2026-03-01"
    assert p.end == SHANGHAI_2026_03_01 + 86_400.0
    assert p.measured_end == now
    future = period("2027-01-01", "2027-01-02", "UTC", now=now)
    assert future.measured_end == future.start  # nothing measured yet


@pytest.mark.parametrize(
    ("first", "last", "match"),
    [
        ("2026-03-02", "2026-03-01", "before it starts"),
        ("2026-13-01", None, "YYYY-MM-DD"),
        ("2024-01-01", "2026-01-01", f"longer than {MAX_DAYS}"),
    ],
)
def test_bad_periods_are_refused_clearly(first: str, last: str | None, match: str) -> None:
    with pytest.raises(PeriodError, match=match):
        period(first, last, "UTC", now=1_780_000_000.0)
