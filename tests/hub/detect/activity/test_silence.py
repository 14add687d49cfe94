"""Silence at home: not_up in the morning, inactivity at other times."""

from __future__ import annotations

import numpy as np
import pytest

from hub.detect.activity import ActivityDetector
from tests.hub.detect.activity.timeline import (
    ZONE,
    H,
    M,
    at,
    kinds,
    learned,
    motion,
    routine_day,
    run,
)


def test_quiet_morning_after_learned_routine_gives_not_up() -> None:
    det = ActivityDetector(grace_period=7)
    learned(det)
    assert det.days_learned("r-1") == 8  # day 8 has just started: days 0-7 are committed
    found = run(det, [], at(8, 0), at(8, 12))
    assert kinds(found) == ["not_up"]
    f = found[0]
    assert f.priority == "medium"
    # usual get-up 07:00-07:20, 90 % quantile + 1 h: the deadline is between 08:00 and 08:20
    assert at(8, 8.0) <= f.at <= at(8, 8.4)
    assert f.evidence["last_activity"] == pytest.approx(at(7, 22.0))
    assert str(f.evidence["deadline"]) >= "08:00"
    back = run(det, [motion(at(8, 12.2), "kitchen")], at(8, 12.25), at(8, 12.25))
    assert [(b.kind, b.evidence["clears"]) for b in back] == [("activity_resumed", "not_up")]


def test_no_routine_findings_before_grace_period() -> None:
    det = ActivityDetector(grace_period=7, warmup_not_up_h=None)
    learned(det, days=3)
    assert run(det, [], at(3, 0), at(4, 12)) == []


def test_a_new_resident_gets_the_fixed_morning_check_while_the_routine_is_learned() -> None:
    det = ActivityDetector(grace_period=7)  # warm-up deadline 09:00 by default
    learned(det, days=3)
    found = run(det, [], at(3, 0), at(4, 12))
    # one not_up on the first silent morning at 09:00, no inactivity (not learned yet)
    assert kinds(found) == ["not_up"]
    f = found[0]
    assert at(3, 9.0) <= f.at <= at(3, 9.0) + 300
    assert f.evidence["warmup"] is True
    assert f.evidence["deadline"] == "09:00"
    assert "3 days" in f.reason["en"]
    back = run(det, [motion(at(4, 12.2), "kitchen")], at(4, 12.25), at(4, 12.25))
    assert kinds(back) == ["activity_resumed"]


def test_the_warm_up_check_needs_a_whole_morning_watched() -> None:
    det = ActivityDetector()
    # first seen at 10:00, silent afterwards: that morning was not watched, so nothing today
    found = run(det, [motion(at(0, 10.0), "kitchen")], at(0, 10.0), at(0, 23.0))
    assert found == []
    # the next morning was watched whole: not up by 09:00 is flagged
    assert kinds(run(det, [], at(1, 0), at(1, 10))) == ["not_up"]


def test_warm_up_deadline_is_validated() -> None:
    with pytest.raises(ValueError, match="warmup_not_up_h"):
        ActivityDetector(warmup_not_up_h=4.0)


def test_inactivity_fires_when_the_learned_routine_says_it_should() -> None:
    det = ActivityDetector(grace_period=7, min_inactivity_s=H)
    learned(det)
    rng = np.random.default_rng(5)
    today = [e for e in routine_day(8, rng) if e.ts <= at(8, 10.0)]
    last = max(e.ts for e in today)
    found = run(det, today, at(8, 0), at(8, 20))
    assert kinds(found) == ["inactivity"]
    # the same rule computed independently on a one-minute grid from the learned routine:
    # the EWMA's weight per hour (8 days seen, 7 before 07:00: first seen at 07:00 on day 0),
    # a pseudo-day half active, the cap; quiet counted from the hour after the last activity
    n_days = np.where(np.arange(24) < 7, 7, 8)
    weight = (1 - det.decay**n_days) / (1 - det.decay)
    shrunk = (det.routine("r-1") * weight + det.prior_days / 2) / (weight + det.prior_days)
    p = np.minimum(shrunk, det.max_hour_p)
    grid = last + np.arange(1, 12 * 60 + 1) * M
    hours = ((grid - 30 + 8 * H) % 86_400 // H).astype(int)  # hour of each minute's middle
    counted = hours != ZONE.hour(last)
    log_chance = np.cumsum(np.where(counted, np.log1p(-p[hours]) / 60, 0.0))
    due = grid[(np.exp(log_chance) < det.inactivity_p) & (grid - last >= det.min_inactivity_s)][0]
    assert due - 90 <= found[0].at < due + 300 + 90  # ticks every 5 min, grid of 1 min
    usual = det.routine("r-1")[ZONE.hour(found[0].at)]
    assert found[0].evidence["usual_hour_p"] == pytest.approx(usual, abs=1e-3)


def test_hours_usually_quiet_need_a_longer_silence() -> None:
    det = ActivityDetector(grace_period=3)
    rng = np.random.default_rng(2)
    events = []
    for d in range(4):  # busy mornings, afternoons active only every other day
        events += [motion(at(d, 7 + k / 4), "living") for k in range(20)]
        if d % 2:
            events += [motion(at(d, 13 + k / 4), "living") for k in range(20)]
        events.append(motion(at(d, 21 + rng.uniform()), "living"))
    run(det, events, at(0, 0), at(4, 0))
    p = det.routine("r-1")
    assert p[8] == pytest.approx(1.0)
    assert 0.2 < p[14] < 0.8
    # silent from 12:00: the afternoon hours are half-quiet, so 2 h is not enough
    morning = [motion(at(4, 7 + k / 4), "living") for k in range(21)]  # last one at 12:00
    found = run(det, morning, at(4, 0), at(4, 15))
    assert found == []


def test_inactivity_and_not_up_are_judged_up_to_the_horizon() -> None:
    det = ActivityDetector(grace_period=7)
    learned(det)
    det.update([motion(at(8, 7.1), "kitchen")], now=at(8, 7.1))
    held = at(8, 7.2)
    for now in np.arange(at(8, 7.2), at(8, 21), 600.0):
        assert det.tick(float(now), horizon=held) == [], now
    assert kinds(det.tick(at(8, 21))) == ["inactivity"]
    quiet = ActivityDetector(grace_period=7)
    learned(quiet)
    for now in np.arange(at(8, 5), at(8, 12), 600.0):
        assert quiet.tick(float(now), horizon=at(8, 6)) == [], now
    assert kinds(quiet.tick(at(8, 12))) == ["not_up"]


def test_a_silence_after_lunch_counts_from_the_next_hour() -> None:
    # lunch at 12:05 every day; afternoon hours active on 7 days in 10; then one day quiet
    # after lunch. The lunch hour was an active hour that day: only 13:00 onwards is unusual.
    det = ActivityDetector(grace_period=7)
    events = []
    for d in range(15):
        events += [motion(at(d, h + 0.1), "kitchen") for h in (7, 8, 9, 10, 11)]
        events.append(motion(at(d, 12 + 5 / 60), "kitchen"))
        if d < 14:
            events += [motion(at(d, h + 0.5), "living") for h in range(13, 18) if (d + h) % 10 < 7]
            events += [motion(at(d, h + 0.2), "living") for h in (18, 19, 20, 21)]
    found = run(det, events, at(0, 0), at(14, 20))
    assert kinds(found) == ["inactivity"]
    # four afternoon hours quiet (each ~0.3 likely): about 17:00, not two hours after lunch
    assert at(14, 16.5) <= found[0].at <= at(14, 17.5)
    assert found[0].evidence["last_activity"] == at(14, 12 + 5 / 60)
