"""Device health: offline, battery, wearable not worn, clock skew, stuck sensor.

All times are the hub's receive times (epoch seconds); state is per device.

- ``device_offline``: the Last Will or a clean shutdown arrived (``source`` ``will`` /
  ``shutdown``), or :meth:`DeviceHealthDetector.tick` found no message for ``k`` × the
  device's promised ``interval_s`` (``source`` ``silence``; devices that promise nothing use
  ``intervals[kind]``, and kinds without a default are not judged). Priority by kind:
  wearables, pendants and gateways (a gateway speaks for every sensor of a home) medium,
  other sensors low (``offline_priority``). Silence is counted from the later of the last
  message and the detector's first call, so a hub restart does not flag every device, and
  up to the tick's ``horizon`` (messages the hub holds but has not passed on yet).
  ``device_online`` (low) when a device that was reported offline speaks again.
  Wills and silences pass through :class:`~hub.detect.connectivity.ConnectivityStorms`
  (``storms``): held for a few seconds, and when many devices of one place go offline
  together they become one ``connectivity_loss`` finding instead (cleared by
  ``connectivity_loss_cleared``). While the hub's own broker link is down
  (:meth:`DeviceHealthDetector.link_changed`) silence is judged only up to the moment it
  dropped, and after it is back silence is counted afresh, as after a hub restart.
  ``k = 3`` tolerates two lost or late messages; for comparison the MQTT broker itself
  gives up on a client after 1.5 keep-alive periods (MQTT 3.1.1, section 3.1.2.10).
- ``low_battery`` (low) at ``battery_low`` %, ``battery_critical`` (medium) at
  ``battery_critical`` %, ``low_battery_cleared`` (low) once the charge is back above
  ``battery_low`` + ``battery_hysteresis``. A level is left only after rising by the
  hysteresis, so a reading that wobbles around a threshold raises one finding, not one per
  message; climbing from critical to merely low raises nothing (the alert stays until charged).
- ``not_worn`` (medium): the wearable reports ``quality.worn`` false or a ``wear`` event
  ``worn: false`` and is not worn again for ``not_worn_s`` of daytime (``day_h``, local
  time; people take devices off at night); ``not_worn_cleared`` (low) when it is back on.
- ``clock_skew`` (low): ``|clock_offset_s| > skew_s`` (default ``CLOCK_SKEW_WARN_S`` of the
  contract) on ``skew_messages`` consecutive messages; ``clock_skew_cleared`` (low) after as
  many good ones. The hub already warns the device itself; this tells the station. A
  sub-device behind a gateway is usually stamped by the gateway's clock, so its skew is
  reported on the gateway (``device_id`` the gateway, evidence ``via`` the sub-device): one
  finding for a home whose gateway clock drifted, not one per sensor, and cleared when the
  gateway and all its sub-devices are in sync again.
- ``stuck_sensor`` (low): a numeric channel reported exactly the same value on its last
  ``stuck_window[channel]`` readings after having varied before (a sensor that never varied
  since it was first seen is not judged). ``stuck_sensor_cleared`` (low) when it changes.
  SpO2 is not judged: a healthy resident's integer SpO2 sits at 97-98 % for hours.

Clearing findings are named ``<kind>_cleared`` (or ``device_online``), which the alert
engine (``alerts.state.cleared_kinds``) reads as "that condition is over".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.detect.activity import LocalTime
from hub.detect.connectivity import ConnectivityStorms
from hub.detect.findings import EvidenceValue, Finding, Priority, judged_until

DEFAULT_INTERVAL_S: Mapping[str, float] = {
    "wearable": 60.0, "pendant": 300.0, "gateway": 60.0, "env": 300.0,
    "motion": 3600.0, "door": 3600.0, "bed": 3600.0, "toilet": 3600.0,
    "smoke": 3600.0, "gas": 3600.0, "water": 3600.0,
}  # fmt: skip
"""Expected seconds between messages for devices that promise no ``interval_s``. Event-only
sensors are expected to send at least an hourly heartbeat; BP and glucose meters are used
now and then and are not judged on silence."""
OFFLINE_PRIORITY: Mapping[str, Priority] = {
    "wearable": "medium", "pendant": "medium", "gateway": "medium",
}  # fmt: skip
STUCK_WINDOW: Mapping[str, int] = {"hr": 30, "rr": 60, "temp": 60, "room_temp": 48, "humidity": 48}
_NUMERIC = ("hr", "spo2", "rr", "temp", "sbp", "dbp", "glucose", "rssi", "room_temp", "humidity")


@dataclass(frozen=True, slots=True)
class DeviceMessage:
    """What device health needs to know about one accepted message."""

    device_id: str
    received_at: float
    msg_type: str = "telemetry"
    kind: str | None = None
    state: str | None = None
    """Status messages: ``online`` or ``offline``."""
    source: str | None = None
    """Status messages: ``birth``, ``will`` (Last Will) or ``shutdown``."""
    interval_s: float | None = None
    reason: str | None = None
    retained: bool = False
    """Status messages: a retained copy the broker handed over on (re)subscribing."""
    clock_offset_s: float | None = None
    battery: float | None = None
    worn: bool | None = None
    readings: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_accepted(cls, accepted: Any) -> DeviceMessage:
        """Build from ``hub.ingest.core.Accepted`` (telemetry, event, status or reply)."""
        m, dev, kind = accepted.message, accepted.device, accepted.msg_type
        base = {"device_id": dev.id, "received_at": float(accepted.received_at),
                "msg_type": kind, "kind": dev.kind, "interval_s": dev.interval_s,
                "clock_offset_s": accepted.clock_offset_s}  # fmt: skip
        if kind == "status":
            online = m.state == "online"
            source = "birth" if online else ("shutdown" if m.reason else "will")
            interval = m.interval_s if m.interval_s is not None else dev.interval_s
            return cls(**{**base, "kind": m.kind or dev.kind, "interval_s": interval,
                          "state": m.state, "source": source, "reason": m.reason,
                          "retained": bool(getattr(accepted, "retained", False))})  # fmt: skip
        if kind == "event":
            worn = m.worn if m.type == "wear" else None
            return cls(**base, worn=worn)
        if kind != "telemetry":
            return cls(**base)
        quality = getattr(m, "quality", None)
        worn = quality.worn if quality is not None else None
        readings = {n: float(v) for n in _NUMERIC if (v := getattr(m, n, None)) is not None}
        return cls(**base, battery=m.battery, worn=worn, readings=readings)


@dataclass(slots=True)
class _Channel:
    value: float = math.nan
    run: int = 0
    varied: bool = False
    flagged: bool = False


@dataclass(slots=True)
class _Device:
    kind: str | None = None
    interval_s: float | None = None
    gateway_id: str = ""
    station_id: str = ""
    zone: LocalTime | None = None
    """Its station's time zone (the detector's own when None)."""
    last_seen: float | None = None
    offline: str | None = None
    battery: int = 0
    unworn_since: float | None = None
    unworn_flag: bool = False
    skew_run: int = 0
    ok_run: int = 0
    skew_flag: bool = False
    skewed: set[str] = field(default_factory=set)
    """Devices (itself, its sub-devices) whose skew is reported on this one."""
    channels: dict[str, _Channel] = field(default_factory=dict)


class DeviceHealthDetector:
    """Per-device health findings; see the module docstring.

    Examples
    --------
    >>> det = DeviceHealthDetector()
    >>> msg = DeviceMessage("w-1", 1.7e9, "status", kind="wearable", state="offline",
    ...                     source="will")
    >>> det.update([msg], now=1.7e9)  # held a few seconds: is it one of many?
    []
    >>> [(f.kind, f.priority) for f in det.tick(1.7e9 + 5)]
    [('device_offline', 'medium')]
    """

    def __init__(
        self,
        *,
        k: float = 3.0,
        intervals: Mapping[str, float] = DEFAULT_INTERVAL_S,
        offline_priority: Mapping[str, Priority] = OFFLINE_PRIORITY,
        battery_low: float = 20.0,
        battery_critical: float = 10.0,
        battery_hysteresis: float = 5.0,
        not_worn_s: float = 30 * 60.0,
        day_h: tuple[float, float] = (7.0, 22.0),
        skew_s: float = 120.0,
        skew_messages: int = 5,
        stuck_window: Mapping[str, int] = STUCK_WINDOW,
        utc_offset_s: float = 8 * 3600.0,
        storms: ConnectivityStorms | None = None,
    ) -> None:
        if not battery_critical < battery_low or battery_hysteresis < 0 or k <= 0:
            raise ValueError("need battery_critical < battery_low, hysteresis >= 0 and k > 0")
        if any(n < 2 for n in stuck_window.values()):
            raise ValueError("a stuck window needs at least 2 readings")
        self.k = k
        self.intervals = dict(intervals)
        self.offline_priority = dict(offline_priority)
        self.battery_low = battery_low
        self.battery_critical = battery_critical
        self.battery_hysteresis = battery_hysteresis
        self.not_worn_s = not_worn_s
        self.day_h = day_h
        self.skew_s = skew_s
        self.skew_messages = skew_messages
        self.stuck_window = dict(stuck_window)
        self.utc_offset_s = utc_offset_s
        self.zone = LocalTime(None, utc_offset_s)
        self.storms = storms if storms is not None else ConnectivityStorms()
        self._dev: dict[str, _Device] = {}
        self._start: float | None = None
        self._link_down: float | None = None
        self._now = -math.inf

    # --- devices ---------------------------------------------------------------------

    def register(
        self, device_id: str, kind: str | None, *, interval_s: float | None = None,
        gateway_id: str | None = None, last_seen_at: float | None = None,
        station_id: str | None = None, tz: str | None = None,
    ) -> None:  # fmt: skip
        """Tell the detector about a device (from the registry and the stored state);
        ``tz`` is the IANA zone of its station (when daytime is, for ``not_worn``)."""
        d = self._dev.setdefault(device_id, _Device())
        if tz is not None and (d.zone is None or d.zone.tz != tz):
            d.zone = LocalTime(tz)
        d.kind = kind or d.kind
        d.interval_s = interval_s if interval_s is not None else d.interval_s
        d.gateway_id = gateway_id or d.gateway_id
        d.station_id = station_id or d.station_id
        if last_seen_at is not None and math.isfinite(last_seen_at):
            d.last_seen = max(d.last_seen or -math.inf, last_seen_at)

    def forget(self, device_id: str) -> None:
        self._dev.pop(device_id, None)

    def link_changed(self, up: bool, at: float) -> None:
        """The hub's own broker link went down (``up`` False) or came back at ``at``.

        While it is down nothing can be heard, so silence is judged only up to when it
        dropped; once back, silence is counted from ``at`` (the devices' next messages are
        on their way), as after a hub restart."""
        if not math.isfinite(at):
            return
        if not up:
            self._link_down = at if self._link_down is None else self._link_down
            return
        self._link_down = None
        self._start = at if self._start is None else max(self._start, at)

    @property
    def devices(self) -> int:
        return len(self._dev)

    def _clock(self, now: float) -> float:
        if not math.isfinite(now):
            raise ValueError("now must be a finite time")
        self._now = max(self._now, now)
        if self._start is None:
            self._start = self._now
        return self._now

    def expected_interval(self, device_id: str) -> float | None:
        d = self._dev.get(device_id)
        if d is None:
            return None
        return d.interval_s if d.interval_s is not None else self.intervals.get(d.kind or "")

    # --- streaming -------------------------------------------------------------------

    def update(self, messages: Sequence[DeviceMessage], now: float) -> list[Finding]:
        """Consume a batch of accepted messages (any devices); return the findings."""
        now = self._clock(now)
        out: list[Finding] = []
        for m in sorted(messages, key=lambda m: m.received_at):
            if not math.isfinite(m.received_at):
                continue
            d = self._dev.setdefault(m.device_id, _Device())
            self.register(m.device_id, m.kind, interval_s=m.interval_s)
            at = min(m.received_at, now)
            d.last_seen = max(d.last_seen or -math.inf, at)
            if m.msg_type == "status" and m.state == "offline":
                out += self._offline(m.device_id, d, at, m.source or "will", m.reason,
                                     replayed=m.retained)  # fmt: skip
                continue
            if d.offline is not None:
                out += self._online(m.device_id, d, at)
            out += self._battery(m.device_id, d, m.battery, at)
            out += self._wear(m.device_id, d, m.worn, at)
            out += self._skew(m.device_id, d, m.clock_offset_s, at)
            for name, value in m.readings.items():
                out += self._stuck(m.device_id, d, name, value, at)
        return out + self.storms.due(now)

    def tick(self, now: float, *, horizon: float = math.inf) -> list[Finding]:
        """Silence and not-worn findings at ``now`` (call every few seconds to a minute).

        ``horizon``: the receive time up to which every message has been passed to
        :meth:`update`; silence is measured up to ``min(now, horizon)``, so messages that
        wait in the hub (a slow store write) do not make their devices look silent."""
        now = self._clock(now)
        judged = judged_until(now, horizon)
        if self._link_down is not None:  # not across the hub's own broker outage
            judged = min(judged, self._link_down)
        start = self._start if self._start is not None else now
        out: list[Finding] = []
        for dev_id, d in self._dev.items():
            if d.offline is None and d.last_seen is not None:
                interval = self.expected_interval(dev_id)
                silent = judged - max(d.last_seen, start)
                if interval is not None and silent > self.k * interval:
                    out += self._offline(dev_id, d, now, "silence", None, silent, interval)
            if d.offline is None and d.unworn_since is not None and not d.unworn_flag:
                daytime = self._daytime(d.unworn_since, now, d.zone or self.zone)
                if daytime >= self.not_worn_s:
                    d.unworn_flag = True
                    out.append(self._not_worn(dev_id, d, now, daytime))
        return out + self.storms.due(now)

    def _daytime(self, start: float, end: float, zone: LocalTime) -> float:
        """Seconds of [start, end] that fall in the local daytime window (at most a week)."""
        start = max(start, end - 7 * 86_400.0)
        total, day = 0.0, zone.day(start)
        while (d0 := zone.day_start(day)) < end:
            a, b = d0 + self.day_h[0] * 3600, d0 + self.day_h[1] * 3600
            total += max(0.0, min(b, end) - max(a, start))
            day += 1
        return total

    # --- the checks ------------------------------------------------------------------

    def _offline(
        self, dev_id: str, d: _Device, at: float, source: str, reason: str | None,
        silent: float = 0.0, interval: float | None = None, replayed: bool = False,
    ) -> list[Finding]:  # fmt: skip
        if d.offline is not None:
            return []
        d.offline = source
        prio = self.offline_priority.get(d.kind or "", "low")
        ev = self._ev(d, source=source, reason=reason or "")
        if replayed:
            ev["retained"] = True  # a Will handed over again when the hub (re)subscribed
        if source == "silence" and interval is not None:
            ev |= {"silent_s": round(silent, 1), "interval_s": interval, "k": self.k}
            zh = f"设备已 {silent / 60:.0f} 分钟无消息（约定每 {interval:g} 秒上报）"
            en = f"No message for {silent / 60:.0f} min (promised every {interval:g} s)"
        elif source == "shutdown":
            zh, en = f"设备已关机（{reason}）", f"Device shut down ({reason})"
        else:
            zh, en = "设备掉线（遗嘱消息）", "Device went offline (Last Will)"
        finding = Finding(dev_id, "device_offline", prio, at, ev, {"zh-CN": zh, "en": en})
        site = d.gateway_id or (dev_id if d.kind == "gateway" else "")
        return self.storms.offline(finding, site=site, station=d.station_id, now=self._now)

    def _online(self, dev_id: str, d: _Device, at: float) -> list[Finding]:
        ev = self._ev(d, was=d.offline or "")
        d.offline = None
        if not self.storms.online(dev_id, at):
            return []  # a blip, or part of a storm: its offline was never reported alone
        reason = {"zh-CN": "设备已恢复在线", "en": "Device is back online"}
        return [Finding(dev_id, "device_online", "low", at, ev, reason)]

    def _battery(self, dev_id: str, d: _Device, pct: float | None, at: float) -> list[Finding]:
        if pct is None or not math.isfinite(pct):
            return []
        low, crit, hyst = self.battery_low, self.battery_critical, self.battery_hysteresis
        level = d.battery
        if pct <= crit:
            level = 2
        elif level == 0:
            level = 1 if pct <= low else 0
        elif pct >= low + hyst:
            level = 0
        elif level == 2 and pct >= crit + hyst:
            level = 1
        old, d.battery = d.battery, level
        if level == old or (old == 2 and level == 1):
            return []
        ev = self._ev(d, battery_pct=pct)
        if level == 2:
            zh, en = f"电量严重不足：{pct:.0f}%", f"Battery critical: {pct:.0f} %"
            return [Finding(dev_id, "battery_critical", "medium", at, ev, {"zh-CN": zh, "en": en})]
        if level == 1:
            zh, en = f"电量低：{pct:.0f}%", f"Battery low: {pct:.0f} %"
            return [Finding(dev_id, "low_battery", "low", at, ev, {"zh-CN": zh, "en": en})]
        zh, en = f"电量已恢复：{pct:.0f}%", f"Battery recharged: {pct:.0f} %"
        return [Finding(dev_id, "low_battery_cleared", "low", at, ev, {"zh-CN": zh, "en": en})]

    def _wear(self, dev_id: str, d: _Device, worn: bool | None, at: float) -> list[Finding]:
        if worn is None:
            return []
        if not worn:
            d.unworn_since = d.unworn_since if d.unworn_since is not None else at
            return []
        flagged, d.unworn_since, d.unworn_flag = d.unworn_flag, None, False
        if not flagged:
            return []
        reason = {"zh-CN": "设备已重新佩戴", "en": "The wearable is worn again"}
        return [Finding(dev_id, "not_worn_cleared", "low", at, self._ev(d), reason)]

    def _not_worn(self, dev_id: str, d: _Device, now: float, daytime: float) -> Finding:
        since = d.unworn_since if d.unworn_since is not None else now
        ev = self._ev(d, since=since, daytime_minutes=round(daytime / 60, 1))
        zh = f"白天已有 {daytime / 60:.0f} 分钟未佩戴设备"
        en = f"Wearable not worn for {daytime / 60:.0f} min of daytime"
        return Finding(dev_id, "not_worn", "medium", now, ev, {"zh-CN": zh, "en": en})

    def _skew(self, dev_id: str, d: _Device, offset: float | None, at: float) -> list[Finding]:
        if offset is None or not math.isfinite(offset):
            return []
        bad = abs(offset) > self.skew_s
        d.skew_run, d.ok_run = (d.skew_run + 1, 0) if bad else (0, d.ok_run + 1)
        ev = self._ev(d, offset_s=round(offset, 1), limit_s=self.skew_s, via=dev_id)
        if bad and not d.skew_flag and d.skew_run >= self.skew_messages:
            d.skew_flag = True
            owner_id, owner = self._skew_owner(dev_id, d)
            first = not owner.skewed
            owner.skewed.add(dev_id)
            if not first:
                return []  # the gateway's finding covers this sub-device too
            side_zh, side_en = ("快", "ahead") if offset > 0 else ("慢", "behind")
            zh = f"设备时钟比平台{side_zh} {abs(offset):.0f} 秒，请校时"
            en = f"Device clock is {abs(offset):.0f} s {side_en} of the hub; sync it (NTP)"
            return [Finding(owner_id, "clock_skew", "low", at, ev, {"zh-CN": zh, "en": en})]
        if not bad and d.skew_flag and d.ok_run >= self.skew_messages:
            d.skew_flag = False
            owner_id, owner = self._skew_owner(dev_id, d)
            owner.skewed.discard(dev_id)
            if owner.skewed:
                return []
            reason = {"zh-CN": "设备时钟已校准", "en": "Device clock is in sync again"}
            return [Finding(owner_id, "clock_skew_cleared", "low", at, ev, reason)]
        return []

    def _skew_owner(self, dev_id: str, d: _Device) -> tuple[str, _Device]:
        """The device whose finding reports this one's skew: its gateway, or itself."""
        if not d.gateway_id:
            return dev_id, d
        owner = self._dev.get(d.gateway_id)
        if owner is None:
            owner = self._dev[d.gateway_id] = _Device()
        return d.gateway_id, owner

    def _stuck(self, dev_id: str, d: _Device, name: str, value: float, at: float) -> list[Finding]:
        window = self.stuck_window.get(name)
        if window is None or not math.isfinite(value):
            return []
        ch = d.channels.setdefault(name, _Channel())
        if value == ch.value:
            ch.run += 1
        else:
            ch.varied = ch.varied or ch.run > 0
            ch.value, ch.run = value, 1
            if ch.flagged:
                ch.flagged = False
                ev = self._ev(d, channel=name, value=value)
                reason = {"zh-CN": f"传感器 {name} 数值已恢复变化",
                          "en": f"Sensor {name} is changing again"}  # fmt: skip
                return [Finding(dev_id, "stuck_sensor_cleared", "low", at, ev, reason)]
        if ch.varied and not ch.flagged and ch.run >= window:
            ch.flagged = True
            ev = self._ev(d, channel=name, value=value, readings=ch.run)
            zh = f"传感器 {name} 连续 {ch.run} 次读数完全相同（{value:g}），可能故障"
            en = f"Sensor {name} reported exactly {value:g} {ch.run} times in a row: stuck?"
            return [Finding(dev_id, "stuck_sensor", "low", at, ev, {"zh-CN": zh, "en": en})]
        return []

    @staticmethod
    def _ev(d: _Device, **extra: EvidenceValue) -> dict[str, EvidenceValue]:
        ev: dict[str, EvidenceValue] = {"device_kind": d.kind or "", "gateway_id": d.gateway_id}
        ev.update(extra)
        return ev


__all__ = ["DEFAULT_INTERVAL_S", "DeviceHealthDetector", "DeviceMessage"]
