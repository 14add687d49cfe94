"""out_of_bed at night, and the early riser's morning."""

from __future__ import annotations

import numpy as np

from hub.detect.activity import ActivityDetector
from tests.hub.detect.activity.timeline import M, at, bed, early_riser_day, kinds, motion, run


def test_out_of_bed_at_night_and_not_back() -> None:
    det = ActivityDetector(out_of_bed_s=30 * M)
    found = run(det, [bed(at(0, 1), False), motion(at(0, 1.1), "kitchen")], at(0, 0.9), at(0, 1.6))
    assert [(f.kind, f.priority) for f in found] == [("out_of_bed", "medium")]
    back = run(det, [bed(at(0, 1.7), True)], at(0, 1.75), at(0, 1.75))
    assert [(f.kind, f.evidence["clears"]) for f in back] == [("activity_resumed", "out_of_bed")]
    # getting up at 05:50 for the day is not "out of bed at night"
    morning = [bed(at(1, 5 + 50 / 60), False), motion(at(1, 5.9), "kitchen")]
    assert run(det, morning, at(1, 5.5), at(1, 7)) == []


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
