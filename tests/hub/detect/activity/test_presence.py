"""Leaving and coming home: exit doors, returns, night_exit."""

from __future__ import annotations

import pytest

from hub.detect.activity import ActivityDetector
from tests.hub.detect.activity.timeline import at, bed, door, kinds, motion, run


def test_night_door_exit_without_movement_inside() -> None:
    det = ActivityDetector()
    events = [bed(at(0, 2.0), False), motion(at(0, 2.02), "hall"), door(at(0, 2.05), True),
              door(at(0, 2.07), False)]  # fmt: skip
    found = run(det, events, at(0, 1.9), at(0, 2.6))
    assert kinds(found) == ["night_exit"]
    assert found[0].priority == "high"
    assert found[0].device_id == "r-1-door-front"
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
