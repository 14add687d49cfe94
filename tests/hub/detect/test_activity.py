"""Activity detector against hand-built days of home-sensor events."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hub.contract.models import EVENT_ADAPTER
from hub.detect.activity import ActivityDetector, LocalTime, SensorEvent
from hub.detect.findings import Finding

ZONE = LocalTime(utc_offset_s=8 * 3600)
DAY0 = ZONE.day(datetime(2026, 3, 2, 12, tzinfo=UTC).timestamp())
H = 3600.0
M = 60.0


def at(day: int, hh: float) -> float:
    """Epoch seconds of local time ``hh`` (hours, may be fractional) on day ``day``."""
    return ZONE.day_start(DAY0 + day) + hh * H


def motion(ts: float, room: str, rid: str = "r-1") -> SensorEvent:
    return SensorEvent(rid, f"{rid}-pir-{room}", "motion", ts, room, {"active": True})


def bed(ts: float, occupied: bool, rid: str = "r-1") -> SensorEvent:
    return SensorEvent(rid, f"{rid}-bed", "bed", ts, "bedroom", {"occupied": occupied})


def toilet(ts: float, occupied: bool, rid: str = "r-1") -> SensorEvent:
    return SensorEvent(rid, f"{rid}-toilet", "toilet", ts, "bathroom", {"occupied": occupied})


def door(ts: float, is_open: bool, rid: str = "r-1") -> SensorEvent:
    return SensorEvent(rid, f"{rid}-door", "door", ts, "hall", {"open": is_open, "door": "front"})


def routine_day(day: int, rng: np.random.Generator, rid: str = "r-1") -> list[SensorEvent]:
    """Up at 07:00-07:20, about every 20 min a room, three toilet visits, bed at 22:00."""
    up = 7 + rng.uniform(0, 1 / 3)
    ev = [bed(at(day, up), False, rid), motion(at(day, up + 0.02), "bedroom", rid)]
    t = up + 0.2
    rooms = ["kitchen", "living", "living", "bedroom"]
    while t < 21.7:
        ev.append(motion(at(day, t), rooms[int(rng.integers(len(rooms)))], rid))
        t += rng.uniform(0.15, 0.4)
    for visit in (9.5, 14.0, 19.0):
        ev += [toilet(at(day, visit), True, rid), toilet(at(day, visit + 0.1), False, rid)]
    ev.append(bed(at(day, 22.0), True, rid))
    return sorted(ev, key=lambda e: e.ts)


def run(
    det: ActivityDetector, events: Iterable[SensorEvent], start: float, end: float,
    step: float = 300.0,
) -> list[Finding]:  # fmt: skip
    """Feed events as they happen and tick every ``step`` seconds; collect the findings."""
    pending = sorted(events, key=lambda e: e.ts)
    out: list[Finding] = []
    i, t = 0, start
    while t <= end:
        j = i
        while j < len(pending) and pending[j].ts <= t:
            j += 1
        if j > i:
            out += det.update(pending[i:j], now=t)
            i = j
        out += det.tick(t)
        t += step
    rest = [e for e in pending[i:] if e.ts <= end]
    if rest:
        out += det.update(rest, now=end) + det.tick(end)
    for f in out:
        assert f.reason["zh-CN"] and f.reason["en"], f
        assert f.evidence["resident_id"]
    return out


def kinds(found: list[Finding]) -> list[str]:
    return [f.kind for f in found]


def learned(det: ActivityDetector, days: int = 8, rid: str = "r-1", seed: int = 1) -> float:
    """Feed ``days`` routine days; return the start of the next day."""
    rng = np.random.default_rng(seed)
    events = [e for d in range(days) for e in routine_day(d, rng, rid)]
    found = run(det, events, at(0, 0), at(days, 0))
    assert found == [], "a routine week must not raise anything"
    return at(days, 0)


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
    # the same rule computed independently on a one-minute grid from the learned routine
    p = np.minimum(det.routine("r-1"), det.max_hour_p)
    grid = last + np.arange(1, 12 * 60 + 1) * M
    hours = ((grid - 30 + 8 * H) % 86_400 // H).astype(int)  # hour of each minute's middle
    log_chance = np.cumsum(np.log1p(-p[hours]) / 60)
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


def test_night_door_exit_without_movement_inside() -> None:
    det = ActivityDetector()
    events = [bed(at(0, 2.0), False), motion(at(0, 2.02), "hall"), door(at(0, 2.05), True),
              door(at(0, 2.07), False)]  # fmt: skip
    found = run(det, events, at(0, 1.9), at(0, 2.6))
    assert kinds(found) == ["night_exit"]
    assert found[0].priority == "high"
    assert found[0].device_id == "r-1-door"
    assert at(0, 2.05) + det.exit_confirm_s <= found[0].at < at(0, 2.05) + det.exit_confirm_s + 301
    back = run(det, [door(at(0, 2.8), True), motion(at(0, 2.82), "living")], at(0, 2.65), at(0, 3))
    assert [(b.kind, b.evidence["clears"]) for b in back] == [("activity_resumed", "night_exit")]


def test_night_door_with_movement_inside_is_not_an_exit() -> None:
    det = ActivityDetector()
    events = [door(at(0, 23.0), True), door(at(0, 23.01), False), motion(at(0, 23.1), "living"),
              bed(at(0, 23.2), True)]  # fmt: skip
    assert run(det, events, at(0, 22.9), at(1, 1)) == []


def test_routine_early_exit_is_not_night_exit_once_learned() -> None:
    det = ActivityDetector(grace_period=4)
    events = []
    for d in range(6):  # a morning walk at 05:30 every day (inside the 22-06 night window)
        events += [bed(at(d, 5.2), False), motion(at(d, 5.3), "hall"), door(at(d, 5.5), True),
                   door(at(d, 5.51), False), door(at(d, 6.5), True), motion(at(d, 6.55), "living"),
                   bed(at(d, 22), True)]  # fmt: skip
    found = run(det, events, at(0, 0), at(6, 0))
    # before the routine is learned the walk is reported, afterwards it is not
    exits = [f for f in found if f.kind == "night_exit"]
    assert 1 <= len(exits) <= 4
    assert max(f.at for f in exits) < at(4, 0)
    assert det.routine("r-1")[5] == pytest.approx(1.0)


def test_fifty_minutes_in_the_bathroom() -> None:
    det = ActivityDetector()
    found = run(det, [motion(at(0, 9.9), "kitchen"), toilet(at(0, 10), True)],
                at(0, 9.8), at(0, 10 + 50 / 60))  # fmt: skip
    assert [(f.kind, f.priority) for f in found] == [("long_bathroom", "medium")]
    assert found[0].evidence["room"] == "bathroom"
    later = run(det, [], at(0, 10.9), at(0, 11.1))
    assert [(f.kind, f.priority) for f in later] == [("long_bathroom", "high")]
    out = run(det, [toilet(at(0, 11.15), False)], at(0, 11.2), at(0, 11.2))
    assert [(f.kind, f.evidence["clears"]) for f in out] == [("activity_resumed", "long_bathroom")]


def test_bathroom_motion_only_and_a_short_visit() -> None:
    det = ActivityDetector()
    short = [motion(at(0, 10), "Bathroom"), motion(at(0, 10.2), "kitchen")]
    assert run(det, short, at(0, 9.9), at(0, 12)) == []
    found = run(det, [motion(at(0, 13), "卫生间")], at(0, 12.9), at(0, 13 + 50 / 60))
    assert kinds(found) == ["long_bathroom"]


def test_out_of_bed_at_night_and_not_back() -> None:
    det = ActivityDetector(out_of_bed_s=30 * M)
    found = run(det, [bed(at(0, 1), False), motion(at(0, 1.1), "kitchen")], at(0, 0.9), at(0, 1.6))
    assert [(f.kind, f.priority) for f in found] == [("out_of_bed", "medium")]
    back = run(det, [bed(at(0, 1.7), True)], at(0, 1.75), at(0, 1.75))
    assert [(f.kind, f.evidence["clears"]) for f in back] == [("activity_resumed", "out_of_bed")]
    # getting up at 05:50 for the day is not "out of bed at night"
    morning = [bed(at(1, 5 + 50 / 60), False), motion(at(1, 5.9), "kitchen")]
    assert run(det, morning, at(1, 5.5), at(1, 7)) == []


@pytest.mark.parametrize("status", ["away", "hospital"])
def test_nothing_fires_while_away(status: str) -> None:
    det = ActivityDetector(grace_period=7)
    start = learned(det)
    before = det.routine("r-1").copy()
    det.set_status("r-1", status, start)  # type: ignore[arg-type]
    events = [toilet(at(8, 10), True), door(at(8, 2), True), bed(at(8, 1), False)]
    assert run(det, events, start, at(10, 12)) == []
    np.testing.assert_array_equal(det.routine("r-1"), before)  # nothing learned meanwhile
    det.set_status("r-1", "home", at(10, 12))
    assert run(det, [], at(10, 12), at(10, 13)) == []  # silence counts from the return


def test_hostile_input() -> None:
    det = ActivityDetector()
    junk = [
        SensorEvent("r-1", "x", "motion", math.nan, "kitchen", {"active": True}),
        SensorEvent("r-1", "x", "smoke", at(0, 10), "kitchen", {"alarm": True}),
        SensorEvent("r-1", "x", "motion", at(0, 10), None, {"active": True}),
        SensorEvent("r-1", "x", "motion", at(0, 10), "attic-7", {}),
    ]
    assert det.update([], now=at(0, 10)) == []
    assert det.update(junk, now=at(0, 10)) == []
    assert det.ignored == 2
    # a stale "occupied" arriving after the vacancy does not reopen the stay
    run(det, [toilet(at(0, 11), True), toilet(at(0, 11.1), False)], at(0, 11), at(0, 11.2))
    assert det.update([toilet(at(0, 11.05), True)], now=at(0, 11.3)) == []
    assert run(det, [], at(0, 11.3), at(0, 13)) == []
    # the hub clock jumps back an hour: nothing fires twice, nothing breaks
    first = run(det, [toilet(at(0, 14), True)], at(0, 14), at(0, 14.7))
    assert kinds(first) == ["long_bathroom"]
    again = det.tick(at(0, 13.5)) + det.tick(at(0, 14.7))
    assert again == []
    with pytest.raises(ValueError, match="finite"):
        det.tick(math.nan)
    # no warm-up at all and nothing learned yet: still no crash, no finding
    eager = ActivityDetector(grace_period=0)
    assert eager.update([motion(at(0, 9), "kitchen")], now=at(0, 9)) == []
    assert eager.tick(at(1, 9)) == []


def test_gap_of_days_is_not_learned() -> None:
    det = ActivityDetector(grace_period=7)
    learned(det, days=3)
    days = det.days_learned("r-1")
    run(det, [], at(3, 0), at(9, 0), step=3600)
    assert det.days_learned("r-1") == days
    rng = np.random.default_rng(3)
    run(det, routine_day(9, rng), at(9, 0), at(10, 0.1))
    assert det.days_learned("r-1") == days + 1


def test_residents_are_isolated() -> None:
    det = ActivityDetector()
    events = [toilet(at(0, 10), True, "r-1"), motion(at(0, 10), "kitchen", "r-2"),
              motion(at(0, 10.5), "living", "r-2"), motion(at(0, 10.7), "bathroom", "r-2"),
              motion(at(0, 10.8), "kitchen", "r-2")]  # fmt: skip
    found = run(det, events, at(0, 9.9), at(0, 11))
    assert {f.evidence["resident_id"] for f in found} == {"r-1"}
    assert det.residents == 2
    det.forget("r-1")
    assert det.residents == 1
    assert det.tick(at(0, 12)) == []


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


def test_sensor_event_from_accepted_corrects_the_clock() -> None:
    msg = EVENT_ADAPTER.validate_python(
        {"type": "door", "ts": at(0, 2) + 300, "seq": 9, "open": True, "door": "front"}
    )
    acc = SimpleNamespace(device=SimpleNamespace(id="gw-1/door"), message=msg, clock_offset_s=300.0)
    e = SensorEvent.from_accepted("r-1", acc)
    assert (e.type, e.ts, e.fields) == ("door", at(0, 2), {"open": True, "door": "front"})


def early_riser_day(day: int, rng: np.random.Generator, up: float | None = None
                    ) -> list[SensorEvent]:  # fmt: skip
    """Up at 05:30-05:50 (or ``up``), about every 20 min a room, bed at 21:30."""
    up = 5.5 + rng.uniform(0, 1 / 3) if up is None else up
    ev = [bed(at(day, up), False), motion(at(day, up + 0.02), "bedroom")]
    t = up + 0.2
    while t < 21.3:
        ev.append(motion(at(day, t), "kitchen" if rng.random() < 0.5 else "living"))
        t += rng.uniform(0.15, 0.4)
    return [*ev, bed(at(day, 21.5), True)]


def test_an_early_riser_getting_up_is_not_out_of_bed_at_night() -> None:
    rng = np.random.default_rng(3)
    det = ActivityDetector(out_of_bed_s=30 * M)
    events = [e for d in range(8) for e in early_riser_day(d, rng)]
    # the first week: nothing but what the warm-up allows (early bed exits before learning)
    first = run(det, events, at(0, 0), at(8, 0))
    assert set(kinds(first)) <= {"out_of_bed", "activity_resumed"}
    # learned: up at 05:15 and busy in the kitchen is the usual morning
    assert run(det, early_riser_day(8, rng, up=5.25), at(8, 5.2), at(9, 0)) == []
    # a bed exit at 02:00 without return is still flagged
    night = [bed(at(9, 2.0), False), motion(at(9, 2.1), "kitchen")]
    assert kinds(run(det, night, at(9, 1.9), at(9, 2.6))) == ["out_of_bed"]


def test_a_backlog_holding_the_horizon_back_is_not_a_long_stay() -> None:
    # the exit from the bathroom waits in a backlog: up to the horizon the detector knows
    # every event, beyond it nothing, so the stay is judged only up to the horizon
    det = ActivityDetector()
    entered = at(0, 10)
    det.update([motion(at(0, 9.9), "kitchen"), toilet(entered, True)], now=entered)
    held = entered + 5 * M  # the vacancy was received here and is still queued
    for now in np.arange(entered, at(0, 20.3), 300.0):
        assert det.tick(float(now), horizon=held) == [], now
    assert det.update([toilet(entered + 4 * M, False)], now=at(0, 20.3), horizon=held) == []
    assert det.tick(at(0, 20.4)) == []
    # a real long stay still fires once the horizon has passed it
    det.update([toilet(at(0, 21), True)], now=at(0, 21), horizon=at(0, 21))
    assert det.tick(at(0, 23), horizon=at(0, 21.5)) == []
    found = det.tick(at(0, 23), horizon=at(0, 21 + 45 / 60))
    assert [(f.kind, f.priority) for f in found] == [("long_bathroom", "medium")]
    assert found[0].evidence["minutes"] == pytest.approx(45.0)
    assert found[0].at == at(0, 23)


def test_night_rules_wait_for_the_horizon() -> None:
    det = ActivityDetector(out_of_bed_s=30 * M)
    det.update([bed(at(0, 1), False)], now=at(0, 1))
    for now in np.arange(at(0, 1), at(0, 5), 600.0):
        assert det.tick(float(now), horizon=at(0, 1.1)) == [], now
    assert kinds(det.tick(at(0, 5), horizon=at(0, 1.6))) == ["out_of_bed"]
    det.update([bed(at(0, 1.7), True)], now=at(0, 5))
    det.update([door(at(1, 2), True)], now=at(1, 2))
    for now in np.arange(at(1, 2), at(1, 5), 600.0):
        assert det.tick(float(now), horizon=at(1, 2) + M) == [], now
    assert kinds(det.tick(at(1, 5))) == ["night_exit"]


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


@pytest.mark.parametrize("horizon", [-math.inf, math.nan, "backwards"])
def test_a_hostile_horizon(horizon: float | str) -> None:
    det = ActivityDetector()
    det.update([toilet(at(0, 10), True)], now=at(0, 10))
    if horizon == "backwards":
        # what was found stays found; an earlier horizon only holds judgement back
        assert kinds(det.tick(at(0, 11), horizon=at(0, 10.8))) == ["long_bathroom"]
        assert det.tick(at(0, 12), horizon=at(0, 10.1)) == []
        assert [f.priority for f in det.tick(at(0, 12), horizon=at(0, 11.5))] == ["high"]
        return
    assert isinstance(horizon, float)
    found = det.tick(at(0, 11), horizon=horizon)
    if math.isnan(horizon):  # a horizon that is no time at all does not silence the detector
        assert kinds(found) == ["long_bathroom"]
    else:  # nothing is known yet: nothing is judged, nothing breaks
        assert found == []
        assert det.update([motion(at(0, 10.5), "kitchen")], now=at(0, 11), horizon=horizon) == []
