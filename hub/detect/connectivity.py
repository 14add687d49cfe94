"""Connectivity storms: many devices of one place going offline together are one finding.

A broker restart delivers every device's Last Will at once; a home gateway or a whole
site losing its network silences all its devices in the same tick; a hub that reconnects
to its broker is handed every retained Will in one burst. Each is one fault, not thirty
residents' devices failing: it gets one ``connectivity_loss`` finding for the place, and
the per-device ``device_offline`` findings it would have caused are not raised.

How (pure, streaming, time injected by the caller):

- A Will or a silence is **held** for ``window_s`` before it becomes the device's own
  ``device_offline`` (a clean shutdown is deliberate and never held). A device that speaks
  again while held was a blip and raises nothing.
- When at least ``min_devices`` held devices went offline within ``window_s`` of each
  other, they become one storm. Its scope is the narrowest place holding ``share`` of them:
  a home gateway's site (the gateway and its sub-devices), else one station, else the whole
  hub. While a storm is open, devices of its scope that go offline join it; the storm's
  finding is repeated with the longer list at most once a window.
- The storm clears (``connectivity_loss_cleared``) when all its devices are back, or when
  at least ``clear_share`` of them are back and none came back for ``settle_s``. Devices
  still offline then get their own ``device_offline`` (evidence ``after_storm``).

Defaults: ``window_s = 5`` s holds a broker's burst of Wills (it publishes the Wills of the
clients it dropped together; a retained burst on subscribe takes well under a second) and
a silence judged in one detection tick (the hub ticks every 5 s); it delays a lone device's
offline finding by at most that, small beside the 1.5 keep-alive periods a broker waits
before publishing a Will (MQTT 3.1.1, section 3.1.2.10). ``min_devices = 5``: a single home
(a gateway and 3–8 sensors) can be a storm, two or three unrelated devices cannot.
``share = 0.8`` leaves room for an unrelated device failing in the same seconds.
``settle_s = 120`` s is paho's longest default reconnect delay (``reconnect_delay_set``),
so a device still away after that is not merely waiting to reconnect.

>>> s = ConnectivityStorms(min_devices=3)
>>> for i in range(3):
...     _ = s.offline(_will(f"w-{i}", 100.0), site="", station="st-1", now=100.0)
>>> [(f.device_id, f.kind, f.evidence["device_count"]) for f in s.due(100.5)]
[('station:st-1', 'connectivity_loss', 3)]
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace

from hub.detect.findings import EvidenceValue, Finding

HELD_SOURCES = frozenset({"will", "silence"})
SHOWN_DEVICES = 50
"""Device ids listed in a storm's evidence (the count is always exact)."""


@dataclass(slots=True)
class _Held:
    finding: Finding
    site: str
    station: str
    since: float
    """The detector's clock when it was held (monotonic, unlike the finding's time)."""


@dataclass(slots=True)
class _Storm:
    key: str
    scope: str
    place: str
    opened_at: float
    members: dict[str, _Held] = field(default_factory=dict)
    back: dict[str, float] = field(default_factory=dict)
    joined: bool = False
    told_at: float = -math.inf


class ConnectivityStorms:
    """Group offline findings into storms; see the module docstring."""

    def __init__(
        self,
        *,
        window_s: float = 5.0,
        min_devices: int = 5,
        share: float = 0.8,
        settle_s: float = 120.0,
        clear_share: float = 0.5,
    ) -> None:
        if not window_s >= 0 or min_devices < 2 or not 0 < share <= 1 or not 0 < clear_share <= 1:
            raise ValueError("need window_s >= 0, min_devices >= 2, 0 < share, clear_share <= 1")
        self.window_s = window_s
        self.min_devices = min_devices
        self.share = share
        self.settle_s = settle_s
        self.clear_share = clear_share
        self._held: dict[str, _Held] = {}
        self._storms: dict[str, _Storm] = {}
        self._member: dict[str, str] = {}  # device id -> key of the open storm holding it

    @property
    def open_storms(self) -> list[str]:
        return list(self._storms)

    def offline(self, finding: Finding, *, site: str, station: str, now: float) -> list[Finding]:
        """A device went offline: hold its finding, add it to an open storm, or (a shutdown
        or a device outside any storm when holding is off) return it at once."""
        dev = finding.device_id
        held = _Held(finding, site, station, now)
        key = self._member.get(dev)
        if key is not None:  # back during the storm, and gone again
            self._storms[key].back.pop(dev, None)
            self._storms[key].members[dev] = held
            return []
        if finding.evidence.get("source") not in HELD_SOURCES:
            return [finding]
        storm = self._storm_for(site, station)
        if storm is not None:
            storm.members[dev] = held
            storm.joined = True
            self._member[dev] = storm.key
            return []
        self._held[dev] = held
        return []

    def online(self, device_id: str, at: float) -> bool:
        """The device spoke again. True when its own ``device_online`` should be raised
        (its offline was reported); False for a blip while held or a storm member."""
        if self._held.pop(device_id, None) is not None:
            return False
        key = self._member.get(device_id)
        if key is None:
            return True
        self._storms[key].back[device_id] = at
        return False

    def due(self, now: float) -> list[Finding]:
        """Form storms, release held findings older than the window, clear storms."""
        out = self._form(now)
        for storm in self._storms.values():
            # devices that joined are told at most once a window: one update per burst
            if storm.joined and now - storm.told_at >= self.window_s:
                storm.joined, storm.told_at = False, now
                out.append(self._finding(storm, now, "connectivity_loss"))
        for dev, held in list(self._held.items()):
            if now - held.since >= self.window_s:
                del self._held[dev]
                out.append(held.finding)
        for storm in list(self._storms.values()):
            out += self._maybe_clear(storm, now)
        return out

    # --- internals -----------------------------------------------------------------------

    def _storm_for(self, site: str, station: str) -> _Storm | None:
        keys = ["hub", f"station:{station}" if station else "", f"gateway:{site}" if site else ""]
        return next((self._storms[k] for k in keys if k in self._storms), None)

    def _form(self, now: float) -> list[Finding]:
        out: list[Finding] = []
        while len(self._held) >= self.min_devices:
            cluster = self._densest()
            if len(cluster) < self.min_devices:
                break
            scope, place, members = self._scope(cluster)
            if len(members) < self.min_devices:
                break
            key = "hub" if scope == "hub" else f"{scope}:{place}"
            storm = self._storms.get(key) or _Storm(key, scope, place, now)
            self._storms[key] = storm
            storm.told_at, storm.joined = now, False
            for h in members:
                dev = h.finding.device_id
                del self._held[dev]
                storm.members[dev] = h
                self._member[dev] = key
            out.append(self._finding(storm, now, "connectivity_loss"))
        return out

    def _densest(self) -> list[_Held]:
        """The largest set of held findings whose times lie within ``window_s``."""
        held = sorted(self._held.values(), key=lambda h: h.finding.at)
        best: tuple[int, int] = (0, 0)
        lo = 0
        for hi, h in enumerate(held):
            while h.finding.at - held[lo].finding.at > self.window_s:
                lo += 1
            if hi + 1 - lo > best[1] - best[0]:
                best = (lo, hi + 1)
        return held[best[0] : best[1]]

    def _scope(self, cluster: list[_Held]) -> tuple[str, str, list[_Held]]:
        for scope, attr in (("gateway", "site"), ("station", "station")):
            counts = Counter(getattr(h, attr) for h in cluster if getattr(h, attr))
            if counts:
                place, n = counts.most_common(1)[0]
                if n >= self.share * len(cluster):
                    return scope, place, [h for h in cluster if getattr(h, attr) == place]
        return "hub", "", cluster

    def _maybe_clear(self, storm: _Storm, now: float) -> list[Finding]:
        n, back = len(storm.members), len(storm.back)
        last = max(storm.back.values(), default=-math.inf)
        settled = back >= self.clear_share * n and now - last >= self.settle_s
        if back < n and not settled:
            return []
        del self._storms[storm.key]
        away = [h for dev, h in storm.members.items() if dev not in storm.back]
        for dev in storm.members:
            self._member.pop(dev, None)
        out = [self._finding(storm, now, "connectivity_loss_cleared", still=away)]
        for h in away:  # their own alerts from now on
            ev = {**h.finding.evidence, "after_storm": storm.key}
            out.append(replace(h.finding, evidence=ev))
        return out

    def _finding(
        self, storm: _Storm, now: float, kind: str, still: list[_Held] | None = None
    ) -> Finding:
        devices = sorted(storm.members)
        first = min(h.finding.at for h in storm.members.values())
        sources = sorted(
            {str(h.finding.evidence.get("source", "")) for h in storm.members.values()}
        )
        ev: dict[str, EvidenceValue] = {
            "scope": storm.scope, "place": storm.place, "storm": storm.key,
            "device_count": len(devices), "devices": _ids(devices),
            "sources": ",".join(sources), "first_at": first, "window_s": self.window_s,
        }  # fmt: skip
        if storm.scope == "station":
            ev["station_id"] = storm.place
        where_zh, where_en = _place(storm)
        if still is None:
            zh = f"{where_zh}{len(devices)} 台设备同时掉线（网络或消息服务器故障）"
            en = f"{len(devices)} devices {where_en} went offline together (network or broker)"
        else:
            ev |= {"still_offline": _ids(sorted(h.finding.device_id for h in still)),
                   "still_offline_count": len(still)}  # fmt: skip
            zh = f"{where_zh}设备已恢复连接（{len(still)} 台仍离线，将单独告警）"
            en = f"Devices {where_en} are back ({len(still)} still offline, alerted one by one)"
        device_id = storm.place if storm.scope == "gateway" else storm.key
        at = now if still is not None else first
        return Finding(device_id, kind, "medium", at, ev, {"zh-CN": zh, "en": en})


def _ids(devices: list[str]) -> str:
    shown = ",".join(devices[:SHOWN_DEVICES])
    return shown if len(devices) <= SHOWN_DEVICES else f"{shown},…"


def _place(storm: _Storm) -> tuple[str, str]:
    if storm.scope == "gateway":
        return f"网关 {storm.place} 下", f"behind gateway {storm.place}"
    if storm.scope == "station":
        return f"服务站 {storm.place} ", f"of station {storm.place}"
    return "全平台", "across the hub"


def _will(device_id: str, at: float) -> Finding:
    """A Last Will finding as :class:`~hub.detect.device_health.DeviceHealthDetector`
    makes it (for examples and tests)."""
    reason = {"zh-CN": "设备掉线（遗嘱消息）", "en": "Device went offline (Last Will)"}
    return Finding(device_id, "device_offline", "medium", at, {"source": "will"}, reason)


__all__ = ["ConnectivityStorms"]
