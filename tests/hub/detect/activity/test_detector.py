"""The detector as a whole: statuses, hostile input, horizons, residents, contract events."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hub.contract.models import EVENT_ADAPTER
from hub.detect.activity import ActivityDetector, SensorEvent
from tests.helpers.imports import top_level_imports
from tests.hub.detect.activity.timeline import M, at, bed, door, kinds, learned, motion, run, toilet


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


def test_sensor_event_from_accepted_corrects_the_clock() -> None:
    msg = EVENT_ADAPTER.validate_python(
        {"type": "door", "ts": at(0, 2) + 300, "seq": 9, "open": True, "door": "front"}
    )
    acc = SimpleNamespace(device=SimpleNamespace(id="gw-1/door"), message=msg, clock_offset_s=300.0)
    e = SensorEvent.from_accepted("r-1", acc)
    assert (e.type, e.ts, e.fields) == ("door", at(0, 2), {"open": True, "door": "front"})


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


def test_the_activity_package_does_no_io() -> None:
    banned = {"asyncio", "paho", "psycopg", "fastapi", "sqlite3", "socket", "requests", "time"}
    root = Path(__file__).parents[4] / "hub" / "detect" / "activity"
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 5
    for path in modules:
        assert not top_level_imports(path) & banned, path.name
