"""Leaving and coming home: exit doors, returns, night_exit."""

from __future__ import annotations

import pytest

from hub.detect.activity import ActivityDetector
from tests.hub.detect.activity.timeline import at, bed, contact, door, kinds, motion, run


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


def test_coming_home_at_night_is_a_return_not_an_exit() -> None:
    # out at 19:00 (a daytime exit: nothing indoors for 10 min), home at 23:00 through the
    # front door and straight to bed, with no sensor indoors to see it
    det = ActivityDetector(warmup_not_up_h=None)
    timeline = [contact(at(0, 18.5), "cupboard", "kitchen"),
                door(at(0, 19.0), True), door(at(0, 19.0 + 1 / 360), False),
                door(at(0, 23.0), True), door(at(0, 23.0 + 1 / 360), False)]  # fmt: skip
    assert run(det, timeline, at(0, 18), at(1, 7)) == []
    # home again: the next front-door opening at night is an exit
    found = run(det, [door(at(1, 2.0), True)], at(1, 1.9), at(1, 2.5))
    assert kinds(found) == ["night_exit"]


def test_the_front_door_while_out_is_the_way_back_in() -> None:
    # a night exit at 01:00, back at 01:40 through the front door (open and close), and
    # nothing else: the alert clears at the door, and no second exit is raised
    det = ActivityDetector()
    back = at(0, 1 + 40 / 60)
    timeline = [door(at(0, 1.0), True), door(at(0, 1.0) + 10, False),
                door(back, True), door(back + 10, False)]  # fmt: skip
    found = run(det, timeline, at(0, 0.9), at(0, 4), step=60)
    assert [(f.kind, f.evidence.get("clears")) for f in found] == [
        ("night_exit", None),
        ("activity_resumed", "night_exit"),
    ]
    assert found[1].evidence["activity_at"] == back


@pytest.mark.parametrize("name", [None, "bedroom", "bathroom", "cupboard", "balcony"])
def test_a_door_not_named_as_the_way_out_is_interior(name: str | None) -> None:
    # at 02:00 the bedroom door (named or not) opens and nothing moves inside for hours
    det = ActivityDetector(warmup_not_up_h=None)
    timeline = [door(at(0, 2.0), True, name=name, room="bedroom"),
                door(at(0, 2.01), False, name=name, room="bedroom")]  # fmt: skip
    assert run(det, timeline, at(0, 1.9), at(0, 5)) == []


@pytest.mark.parametrize("name", ["front", "Front_Door", "main door", "back", "入户门", "大门"])
def test_doors_named_as_the_way_out_are_exits(name: str) -> None:
    det = ActivityDetector()
    found = run(det, [door(at(0, 2.0), True, name=name)], at(0, 1.9), at(0, 2.5))
    assert kinds(found) == ["night_exit"]
    assert found[0].evidence["door"] == name
    assert name in found[0].reason["en"] and name in found[0].reason["zh-CN"]


def test_nights_of_an_unnamed_interior_door_raise_nothing() -> None:
    # a contacts-only home: the bedroom door has no name and opens for the night toilet
    # visit; a bathroom cabinet is the only sign in between (each night, for two weeks)
    det = ActivityDetector(warmup_not_up_h=None)
    events = []
    for d in range(14):
        events += [contact(at(d, 7.5), "cupboard", "kitchen"),
                   contact(at(d, 12.0), "fridge", "kitchen"),
                   door(at(d, 21.5), True, name=None, room="bedroom"),
                   door(at(d, 23.0 + (d % 4) / 2), True, name=None, room="bedroom"),
                   contact(at(d, 23.05 + (d % 4) / 2), "cabinet", "bathroom"),
                   door(at(d, 23.1 + (d % 4) / 2), True, name=None, room="bedroom")]  # fmt: skip
    found = run(det, events, at(0, 0), at(14, 0))
    assert [f for f in found if f.kind in ("night_exit", "long_bathroom")] == []
