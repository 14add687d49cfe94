"""The learned routine: hourly activity, days not observed, local time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hub.detect.activity import ActivityDetector, LocalTime
from tests.hub.detect.activity.timeline import at, door, kinds, learned, motion, routine_day, run


def test_routine_matches_batch_ewma() -> None:
    rng = np.random.default_rng(7)
    n_days = 12
    x = rng.random((n_days, 24)) < rng.uniform(0.05, 0.95, 24)
    x[5] = False  # a day without any event (a dead gateway): not learned
    det = ActivityDetector(halflife_days=4.0, warmup_not_up_h=None)  # no flags: all learned
    det.configure("r-1", at(0, 0) - 10)
    events = [motion(at(d, h + 0.5), "living") for d in range(n_days) for h in range(24) if x[d, h]]
    # away on day 3 from 10:00 to 18:00: hours 10-18 of that day are not observed
    events_before = [e for e in events if e.ts < at(3, 10)]
    run(det, events_before, at(0, 0), at(3, 10) - 1, step=3600)
    det.set_status("r-1", "away", at(3, 10))
    det.set_status("r-1", "home", at(3, 18))
    run(det, [e for e in events if e.ts >= at(3, 18)], at(3, 18), at(n_days, 0.1), step=3600)

    seen = np.ones((n_days, 24), dtype=bool)
    seen[3, 10:19] = False
    seen[~x.any(axis=1)] = False
    x = x & seen
    later = np.cumsum(seen[::-1], axis=0)[::-1] - seen  # observed days after each one
    w = np.where(seen, det.decay**later, 0.0)
    expected = (w * x).sum(0) / w.sum(0)
    assert det.days_learned("r-1") == n_days - 1
    np.testing.assert_allclose(det.routine("r-1"), expected, rtol=1e-12)


def test_gap_of_days_is_not_learned() -> None:
    det = ActivityDetector(grace_period=7)
    learned(det, days=3)
    days = det.days_learned("r-1")
    run(det, [], at(3, 0), at(9, 0), step=3600)
    assert det.days_learned("r-1") == days
    rng = np.random.default_rng(3)
    run(det, routine_day(9, rng), at(9, 0), at(10, 0.1))
    assert det.days_learned("r-1") == days + 1


def test_local_time_with_a_zone_name() -> None:
    ny = LocalTime("America/New_York")
    for iso in ("2026-01-15T12:00:00+00:00", "2026-07-15T03:30:00+00:00"):
        ts = datetime.fromisoformat(iso).timestamp()
        local = datetime.fromtimestamp(ts, ZoneInfo("America/New_York"))
        assert ny.hour(ts) == local.hour
        assert (
            ny.day_start(ny.day(ts))
            == datetime(
                local.year, local.month, local.day, tzinfo=ZoneInfo("America/New_York")
            ).timestamp()
        )
    det = ActivityDetector()
    det.configure("r-ny", at(0, 0), tz="America/New_York")
    with pytest.raises(ValueError, match="status"):
        det.set_status("r-ny", "gone", at(0, 1))  # type: ignore[arg-type]


def test_the_get_up_is_learned_only_from_days_woken_at_home() -> None:
    # a learned routine (up 07:00-07:20), then two weekends away: out on the first day at
    # 09:30, nothing on the second, back through the front door on the third at 17:00
    det = ActivityDetector(grace_period=7)
    learned(det)
    rng = np.random.default_rng(4)
    for first in (8, 12):
        away = [e for e in routine_day(first, rng) if e.ts < at(first, 9.4)]
        away += [door(at(first, 9.5), True), door(at(first, 9.5) + 10, False)]
        back = [door(at(first + 2, 17.0), True), door(at(first + 2, 17.0) + 10, False)]
        back += [e for e in routine_day(first + 2, rng) if e.ts > at(first + 2, 17.1)]
        # no finding while out: neither the silent day nor the morning of the return
        assert run(det, [*away, *back], at(first, 0), at(first + 3, 0)) == []
        home = routine_day(first + 3, rng)
        assert run(det, home, at(first + 3, 0), at(first + 4, 0)) == []
    # 17:00 was a return, twice, not a late get-up: the morning deadline is where it was
    found = run(det, [], at(16, 0), at(16, 12))
    assert kinds(found) == ["not_up"]
    assert found[0].evidence["usual_getup"] <= "07:20"
    assert found[0].at < at(16, 8.5)
