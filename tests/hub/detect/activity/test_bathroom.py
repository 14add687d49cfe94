"""long_bathroom: stays, their evidence, and the horizon."""

from __future__ import annotations

import numpy as np
import pytest

from hub.detect.activity import ActivityDetector
from tests.hub.detect.activity.timeline import M, at, kinds, motion, run, toilet


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
