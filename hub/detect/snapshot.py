"""Snapshots of the slow detector models of some devices and residents (pure).

A cluster worker (``carehub worker``) rebuilds a claimed partition's detector state by
replaying the partition's stream, but only a bounded horizon of it: the activity routine
(:class:`hub.detect.activity.ActivityDetector`) learns over days and the heart-rate drift
baseline (:class:`hub.detect.baseline.BaselineDrift`) over hours of buckets, far more than a
stream replay can give back at a failover. :func:`take` collects what those two learned as
plain JSON values; :func:`restore` gives it to another worker's detectors, which then replay
only what came after the snapshot.

>>> from hub.detect.router import Detection
>>> a = Detection(clock=lambda: 1.7e9)
>>> a.activity.configure("r-1", 1.7e9)
>>> data = take(a, ["w-1"], ["r-1"])
>>> b = Detection(clock=lambda: 1.7e9)
>>> restore(b, data, 1.7e9)
1
>>> b.activity.days_learned("r-1") == a.activity.days_learned("r-1")
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hub.detect.router import Detection

VERSION = 1


def take(
    detection: Detection, device_ids: Iterable[str], resident_ids: Iterable[str]
) -> dict[str, Any]:
    """The learned routines of ``resident_ids`` and baselines of ``device_ids``."""
    activity = {r: d for r in resident_ids if (d := detection.activity.learned(r)) is not None}
    drift = {i: d for i in device_ids if (d := detection.drift.learned(i)) is not None}
    return {"version": VERSION, "activity": activity, "drift": drift}


def restore(detection: Detection, data: Mapping[str, Any], now: float) -> int:
    """Give ``data`` (from :func:`take`) to ``detection``; the number of models restored
    (0 for a snapshot of another version: the models are learned afresh)."""
    if data.get("version") != VERSION:
        return 0
    for resident_id, learned in data.get("activity", {}).items():
        detection.activity.restore_learned(resident_id, learned, now)
    for device_id, learned in data.get("drift", {}).items():
        detection.drift.restore_learned(device_id, learned)
    return len(data.get("activity", {})) + len(data.get("drift", {}))
