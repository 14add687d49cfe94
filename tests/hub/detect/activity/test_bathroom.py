"""long_bathroom: stays, their evidence, and the horizon."""

from __future__ import annotations

import numpy as np
import pytest

from hub.detect.activity import ActivityDetector
from tests.hub.detect.activity.timeline import M, at, contact, door, kinds, motion, run, toilet


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


def test_bathroom_motion_repeated_is_a_stay_and_a_short_visit_is_not() -> None:
    det = ActivityDetector()
    short = [motion(at(0, 10), "Bathroom"), motion(at(0, 10.05), "Bathroom"),
             motion(at(0, 10.2), "kitchen")]  # fmt: skip
    assert run(det, short, at(0, 9.9), at(0, 12)) == []
    # motion again within bathroom_repeat_s: the person is in there; counted from the first
    stay = [motion(at(0, 13), "卫生间"), motion(at(0, 13 + 4 / 60), "卫生间")]
    found = run(det, stay, at(0, 12.9), at(0, 13 + 50 / 60))
    assert kinds(found) == ["long_bathroom"]
    assert found[0].evidence["since"] == at(0, 13)
    assert at(0, 13) + det.bathroom_s <= found[0].at < at(0, 13) + det.bathroom_s + 301


def test_a_one_off_bathroom_event_then_silence_is_not_a_long_stay() -> None:
    # 21:30 one bathroom motion, then the resident goes to bed in a room without sensors:
    # nothing says they are still in the bathroom, so the rule waits for the next sign
    det = ActivityDetector(warmup_not_up_h=None)
    timeline = [motion(at(0, 21.0), "kitchen"), motion(at(0, 21.5), "bathroom")]
    assert run(det, timeline, at(0, 20.9), at(1, 7.0)) == []
    # the next sign is elsewhere: no stay, nothing to clear
    assert run(det, [motion(at(1, 7.1), "kitchen")], at(1, 7.1), at(1, 8)) == []


def test_one_off_visits_hours_apart_do_not_add_up() -> None:
    det = ActivityDetector(warmup_not_up_h=None)
    # 10:00 a one-off, silence; 12:00 the bathroom again, 12:05 motion repeated: a stay
    # since 12:00 (not since 10:00, which would be two hours at once)
    timeline = [motion(at(0, 10), "bathroom"), motion(at(0, 12), "bathroom"),
                motion(at(0, 12 + 5 / 60), "bathroom")]  # fmt: skip
    found = run(det, timeline, at(0, 9.9), at(0, 12.75), step=60)
    assert [(f.kind, f.priority, f.evidence["since"]) for f in found] == [
        ("long_bathroom", "medium", at(0, 12))
    ]
    assert found[0].at == pytest.approx(at(0, 12) + det.bathroom_s, abs=60)


def test_bathroom_contacts_are_signs_but_no_evidence_of_presence() -> None:
    # a cabinet in the bathroom and the bathroom door, opened again and again: the person
    # was in there, but nothing says they stayed (they may have walked on)
    det = ActivityDetector(warmup_not_up_h=None)
    timeline = [contact(at(0, 10), "cabinet", "bathroom"),
                door(at(0, 10.05), True, name="bathroom"),
                contact(at(0, 10.1), "cabinet", "bathroom")]  # fmt: skip
    assert run(det, timeline, at(0, 9.9), at(0, 13)) == []
    # with the toilet presence sensor saying someone is in, the same stay is judged
    present = [contact(at(0, 14), "cabinet", "bathroom"), toilet(at(0, 14.05), True)]
    found = run(det, present, at(0, 13.9), at(0, 14.75))
    assert [(f.kind, f.evidence["since"]) for f in found] == [("long_bathroom", at(0, 14))]


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
