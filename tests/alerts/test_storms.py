"""A connectivity storm is one alert: per-device offline alerts in its place are inhibited
while it is open (and say why on their timeline), and told again once it has cleared."""

from __future__ import annotations

from alerts.engine import AlertEngine, NotificationDue
from alerts.rules import Facts
from alerts.state import spec_for
from alerts.storms import covers, storm_keys
from hub.store.base import FindingRow

from .conftest import ROLES, T0, finding


def storm(kind: str, key: str, at: float, **extra: object) -> FindingRow:
    scope, _, place = key.partition(":")
    ev = {"storm": key, "scope": scope, "place": place, "device_count": 30,
          "devices": "w-1,w-2"} | extra  # fmt: skip
    if scope == "station":
        ev["station_id"] = place
    device = place if scope == "gateway" else key
    reason = {"zh-CN": "30 台设备同时掉线", "en": "30 devices went offline together"}
    return FindingRow(None, device, kind, "medium", at, at, ev, reason)


def told(effects: list) -> list[str]:
    return [e.row.channel for e in effects if isinstance(e, NotificationDue)]


def test_open_storm_inhibits_device_offline_and_the_timeline_says_why(
    engine: AlertEngine,
) -> None:
    before = engine.on_finding(finding("device_offline", "medium", device="w-1"), T0)
    assert told(before) == list(ROLES["station"])  # alone, before the storm: told
    effects = engine.on_finding(storm("connectivity_loss", "station:st-1", T0 + 5), T0 + 5)
    assert told(effects) == list(ROLES["station"])  # the station hears of the storm once
    by_kind = {a.kind: a for a in engine.open_alerts()}
    loss = by_kind["connectivity_loss"]
    assert (loss.category, loss.station_id, loss.subject) == ("technical", "st-1", "station:st-1")
    # the offline alert already open is part of the storm now
    w1 = by_kind["device_offline"]
    assert engine.get_alert(w1.id).suppressed == "connectivity_loss:station:st-1"
    assert [e.action for e in engine.timeline(alert_id=w1.id)][-1] == "suppressed"
    # a device of the station going offline during the storm: opened, not told
    quiet = engine.on_finding(finding("device_offline", "medium", device="w-2", resident="r-2"),
                              T0 + 6)  # fmt: skip
    assert told(quiet) == []
    (w2,) = [a for a in engine.open_alerts() if a.device_id == "w-2"]
    assert w2.suppressed == "connectivity_loss:station:st-1"
    (opened,) = engine.timeline(alert_id=w2.id)
    assert (opened.action, opened.detail["suppressed"]) == (
        "opened", "connectivity_loss:station:st-1",
    )  # fmt: skip
    # a fall is never inhibited by a storm
    assert told(engine.on_finding(finding("fall"), T0 + 7)) != []

    # the devices came back: the storm clears itself; w-2 stayed offline and is told now
    engine.on_finding(storm("connectivity_loss_cleared", "station:st-1", T0 + 300), T0 + 300)
    assert engine.get_alert(loss.id).outcome == "self_cleared"
    after = engine.on_finding(
        finding("device_offline", "medium", device="w-2", resident="r-2"), T0 + 301
    )
    assert told(after) == list(ROLES["station"])
    assert engine.get_alert(w2.id).suppressed is None
    assert "unsuppressed" in [e.action for e in engine.timeline(alert_id=w2.id)]


def test_storm_places_hub_station_and_gateway() -> None:
    def facts(device: str, station: str | None, gateway: str | None = None) -> Facts:
        return Facts("device_offline", spec_for("device_offline"), None, device, station,
                     gateway_id=gateway)  # fmt: skip

    assert covers("hub", facts("x", None))
    assert covers("station:st-1", facts("x", "st-1"))
    assert not covers("station:st-1", facts("x", "st-2"))
    assert covers("gateway:gw-1", facts("door-1", "st-1", "gw-1"))
    assert covers("gateway:gw-1", facts("gw-1", "st-1"))
    assert not covers("gateway:gw-1", facts("door-2", "st-1", "gw-2"))
    assert not covers("bogus", facts("x", "st-1"))
    assert storm_keys([]) == []


def test_a_hub_wide_storm_hides_every_device(engine: AlertEngine) -> None:
    engine.on_finding(storm("connectivity_loss", "hub", T0), T0)
    effects = engine.on_finding(finding("device_offline", "medium", device="door-1"), T0 + 1)
    assert told(effects) == []
    (door,) = [a for a in engine.open_alerts() if a.device_id == "door-1"]
    assert door.suppressed == "connectivity_loss:hub"
