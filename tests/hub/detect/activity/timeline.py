"""Timelines of home-sensor events for the activity tests: local times, sensors, routine
days, and a runner that feeds events as they happen and ticks the detector."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import numpy as np

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


def door(ts: float, is_open: bool, rid: str = "r-1", name: str | None = "front",
         room: str = "hall") -> SensorEvent:  # fmt: skip
    fields: dict[str, object] = {"open": is_open}
    if name is not None:
        fields["door"] = name
    device = f"{rid}-door-{name or 'x'}"
    return SensorEvent(rid, device, "door", ts, room, fields)


def contact(ts: float, name: str, room: str, rid: str = "r-1") -> SensorEvent:
    """A cupboard or appliance contact opened (reported as a named door)."""
    return door(ts, True, rid, name, room)


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
