"""Connectivity storms in the alert rules (pure): which offline alerts a storm covers.

A ``connectivity_loss`` alert (see :mod:`hub.detect.connectivity`) stands for many devices
of one place that went offline together: a home gateway's site, a station, or the whole
hub. While it is open, the ``device_offline`` alerts of devices in that place are
inhibited (reason ``connectivity_loss:KEY``): the station is told once, about the cause.
When it clears, devices still offline get their own alerts, which are told as usual.

>>> from alerts.rules import Facts
>>> from alerts.state import spec_for
>>> facts = Facts("device_offline", spec_for("device_offline"), "r-1", "w-1", "st-1")
>>> storm_reason(facts, ["station:st-2", "station:st-1"])
'connectivity_loss:station:st-1'
>>> storm_reason(facts, ["gateway:gw-9"]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from alerts.state import Alert

if TYPE_CHECKING:
    from alerts.rules import Facts

STORM_KIND = "connectivity_loss"
COVERED_KINDS = frozenset({"device_offline"})


def storm_keys(alerts: Iterable[Alert]) -> list[str]:
    """The places of the open storm alerts (``hub``, ``station:ID``, ``gateway:ID``)."""
    keys = []
    for a in alerts:
        if a.kind == STORM_KIND and a.is_open:
            key = a.evidence.get("storm")
            keys.append(key if isinstance(key, str) and key else a.subject)
    return keys


def covers(key: str, facts: Facts) -> bool:
    """True when the storm at ``key`` holds the device of ``facts``."""
    scope, _, place = key.partition(":")
    if scope == "hub":
        return True
    if scope == "station":
        return place == facts.station_id
    if scope == "gateway":
        return place in (facts.gateway_id, facts.device_id)
    return False


def storm_reason(facts: Facts, keys: Iterable[str]) -> str | None:
    """``connectivity_loss:KEY`` when an open storm covers this offline alert, else None."""
    if facts.kind not in COVERED_KINDS:
        return None
    for key in keys:
        if covers(key, facts):
            return f"{STORM_KIND}:{key}"
    return None
