"""Routes what the ingest pipeline stored to the detectors and collects their findings.

:class:`Detection` is the hub's side of ``hub/detect/``: it knows the registry (which
resident owns a device, their clinical settings and status, which gateway a sensor is
behind) and turns each accepted message into the calls the detectors expect. It does no
I/O; :class:`carehub.serve.Hub` stores the findings it returns and hands them on to the alert
engine. Time-based findings (silence, inactivity, not up in the morning) come from
:meth:`tick`, which the hub calls every few seconds with the current time and the
**horizon**: the receive time of the oldest message not yet through the detectors. Every
rule that fires on the absence of a message (device silence, long bathroom stay, no
return to bed, night exit, inactivity, not up) judges time only up to
``min(now, horizon)`` (:func:`hub.detect.findings.judged_until`), so a backlog is never
taken for a resident or a device that went quiet.

Routing:

=========================  ============================================================
accepted message           detectors
=========================  ============================================================
telemetry with ``acc``     falls (wrist, waist or pendant accelerometer bursts), with the
                           model of where the device is worn (:func:`fall_position`)
telemetry vitals           vital signs (NEWS2, thresholds), baseline drift, BP/glucose
telemetry ``room_temp``    environment (room temperature extremes)
event fall / sos           vendor-side detection and the SOS button → findings directly
event motion/door/bed/...  activity (per resident, through the home's sensors)
event smoke / gas / water  environment (immediate)
every message, status      device health (offline, battery, not worn, skew, stuck)
=========================  ============================================================
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hub.detect.activity import ActivityDetector, SensorEvent
from hub.detect.baseline import BaselineDrift
from hub.detect.bp_glucose import BpGlucoseDetector
from hub.detect.device_health import DeviceHealthDetector, DeviceMessage
from hub.detect.environment import EnvironmentDetector
from hub.detect.falls import FallDetector
from hub.detect.findings import Finding
from hub.detect.vendor import finding_from_event
from hub.detect.vitals import VitalsDetector
from hub.ingest.core import Accepted
from hub.store.base import Device, DeviceState, FindingRow, Resident, Station
from hub.timezones import DEFAULT_TIMEZONE

log = logging.getLogger(__name__)

ACTIVITY_EVENTS = frozenset({"motion", "door", "bed", "toilet", "button", "sos"})
HAZARD_EVENTS = frozenset({"smoke", "gas", "water"})
VENDOR_EVENTS = frozenset({"fall", "sos"})
SELF_SERVICE_KINDS = frozenset({"bp_monitor", "glucose_meter"})
WEARABLE_VITALS = ("hr", "spo2", "rr", "temp", "sbp", "dbp")
POSITION_BY_KIND = {"wearable": "wrist", "pendant": "neck"}
"""Where a device that does not declare ``worn_at`` is taken to be worn: the contract's
wearable is a wristband, its pendant hangs on a cord."""


def fall_position(device: Device) -> str | None:
    """Where a device is worn for the fall detector: its declared or provisioned
    ``worn_at``, else what its kind implies (:data:`POSITION_BY_KIND`), else unknown.

    >>> fall_position(Device("p-1", "pendant"))
    'neck'
    >>> fall_position(Device("w-1", "wearable", worn_at="waist"))
    'waist'
    """
    return device.worn_at or POSITION_BY_KIND.get(device.kind)


@dataclass(slots=True)
class _Counts:
    routed: int = 0
    failed: int = 0


class Detection:
    """All detectors of one hub node, fed from accepted messages. Not thread-safe: the
    hub calls it from its event loop only. ``timezone`` is the zone of stations that
    name none (``CAREHUB_DEFAULT_TIMEZONE``)."""

    def __init__(
        self,
        *,
        falls: FallDetector | None = None,
        activity: ActivityDetector | None = None,
        environment: EnvironmentDetector | None = None,
        device_health: DeviceHealthDetector | None = None,
        vitals: VitalsDetector | None = None,
        drift: BaselineDrift | None = None,
        bp_glucose: BpGlucoseDetector | None = None,
        clock: Callable[[], float],
        timezone: str = DEFAULT_TIMEZONE,
    ) -> None:
        self.falls = falls if falls is not None else FallDetector.shipped()
        self.activity = activity if activity is not None else ActivityDetector()
        self.environment = environment if environment is not None else EnvironmentDetector()
        self.device_health = device_health if device_health is not None else DeviceHealthDetector()
        self.vitals = vitals if vitals is not None else VitalsDetector()
        self.drift = drift if drift is not None else BaselineDrift()
        self.bp_glucose = bp_glucose if bp_glucose is not None else BpGlucoseDetector()
        self.clock = clock
        self.timezone = timezone
        self.devices: dict[str, Device] = {}
        self.residents: dict[str, Resident] = {}
        self.zones: dict[str, str] = {}
        """Station id -> its IANA time zone (the default applied)."""
        self.counts = _Counts()

    # --- registry ------------------------------------------------------------------------

    def set_registry(
        self,
        devices: Iterable[Device],
        residents: Iterable[Resident],
        states: Iterable[DeviceState] = (),
        stations: Iterable[Station] = (),
    ) -> None:
        """Tell the detectors about devices, residents and their stations' time zones
        (called on every refresh). Night, morning and daytime rules, and the times written
        in findings, follow the zone of the resident's station."""
        now = self.clock()
        last_seen = {s.device_id: s.last_seen_at for s in states}
        new_devices = {d.id: d for d in devices}
        old_residents, self.residents = self.residents, {r.id: r for r in residents}
        old_zones = self.zones
        self.zones = {s.id: s.timezone or self.timezone for s in stations}
        for d in new_devices.values():
            known = self.devices.get(d.id)
            if known is None or fall_position(known) != fall_position(d):
                self.falls.set_position(d.id, fall_position(d))
            station = _station_of(d, new_devices, self.residents)
            moved = station != _station_of(d, self.devices, old_residents)
            zone = self._zone(station)
            rezoned = zone != self._zone(station, old_zones)
            if known is None or known != d or moved or rezoned:
                self.device_health.register(
                    d.id,
                    d.kind,
                    interval_s=d.interval_s,
                    gateway_id=d.gateway_id,
                    last_seen_at=last_seen.get(d.id),
                    station_id=station,
                    tz=zone,
                )
                self.environment.set_zone(d.id, zone)
        for r in self.residents.values():
            known_r = old_residents.get(r.id)
            zone = self._zone(r.station_id)
            if known_r is None or zone != self._zone(known_r.station_id, old_zones):
                self.activity.configure(r.id, now, tz=zone)
            if known_r is None or known_r.status != r.status:
                self.activity.set_status(r.id, r.status, now)
        for d in new_devices.values():
            resident = self.residents.get(d.resident_id) if d.resident_id else None
            before = old_residents.get(d.resident_id) if d.resident_id else None
            changed = before is None or resident is None or before.clinical != resident.clinical
            if resident is not None and (self.devices.get(d.id) != d or changed):
                self._apply_clinical(d.id, resident)
        gone_devices = [d for d in self.devices if d not in new_devices]
        gone_residents = [r for r in old_residents if r not in self.residents]
        self.devices = new_devices
        self.forget(gone_devices, gone_residents)

    def forget(self, device_ids: Iterable[str], resident_ids: Iterable[str] = ()) -> None:
        """Drop every detector's state of devices and residents no longer watched here
        (removed from the registry, or, on a cluster worker, in a partition it gave back):
        memory follows what is watched, and a device that comes back starts afresh."""
        for device_id in device_ids:
            self.devices.pop(device_id, None)
            for detector in (self.falls, self.environment, self.device_health, self.vitals,
                             self.drift, self.bp_glucose):  # fmt: skip
                detector.forget(device_id)
        for resident_id in resident_ids:
            self.activity.forget(resident_id)

    def watched(self) -> dict[str, int]:
        """How many devices and residents each detector holds state for (tests, metrics)."""
        return {
            "devices": len(self.devices), "residents": len(self.residents),
            "activity": self.activity.residents, "device_health": self.device_health.devices,
            "vitals": self.vitals.devices, "drift": self.drift.devices, "falls": self.falls.devices,
        }  # fmt: skip

    def _zone(self, station_id: str | None, zones: dict[str, str] | None = None) -> str:
        """The time zone of a station (the default for none, or one not known)."""
        zones = self.zones if zones is None else zones
        return zones.get(station_id, self.timezone) if station_id else self.timezone

    def _apply_clinical(self, device_id: str, resident: Resident) -> None:
        """Per-resident clinical settings (NEWS2 SpO2 scale, limits) for one device."""
        for detector in (self.vitals, self.bp_glucose):
            try:
                detector.set_clinical(device_id, resident.clinical)
            except ValueError as exc:  # a bad setting keeps the previous ones, loudly
                log.warning("clinical settings of resident %s refused: %s", resident.id, exc)

    # --- messages ------------------------------------------------------------------------

    def observe(self, batch: Sequence[Accepted], *, horizon: float = math.inf) -> list[FindingRow]:
        """Run the detectors over a committed batch; return the findings as rows. Absences
        noticed on the way are judged up to ``horizon`` at most (see :meth:`tick`)."""
        now = self.clock()
        findings: list[tuple[Finding, str | None]] = []
        health: list[DeviceMessage] = []
        activity: list[SensorEvent] = []
        for acc in batch:
            self.counts.routed += 1
            try:
                health.append(DeviceMessage.from_accepted(acc))
                findings += self._route(acc, now, activity)
            except Exception:  # one bad route must not cost the other detectors
                self.counts.failed += 1
                log.exception("detection failed on a %s from %s", acc.msg_type, acc.device.id)
        findings += [(f, None) for f in self.device_health.update(health, now)]
        if activity:
            findings += [(f, None) for f in self.activity.update(activity, now, horizon=horizon)]
        return [self._row(f, resident, now) for f, resident in findings]

    def link_changed(self, up: bool) -> None:
        """The hub's broker link went down or came back (see
        :meth:`hub.detect.device_health.DeviceHealthDetector.link_changed`)."""
        self.device_health.link_changed(up, self.clock())

    def tick(self, now: float, *, horizon: float = math.inf) -> list[FindingRow]:
        """Time-based findings at ``now``; absences are judged up to ``horizon`` at most (see
        :meth:`hub.detect.device_health.DeviceHealthDetector.tick` and
        :meth:`hub.detect.activity.ActivityDetector.tick`)."""
        findings = self.device_health.tick(now, horizon=horizon) + self.activity.tick(
            now, horizon=horizon
        )
        return [self._row(f, None, now) for f in findings]

    def _route(
        self, acc: Accepted, now: float, activity: list[SensorEvent]
    ) -> list[tuple[Finding, str | None]]:
        m, device = acc.message, acc.device
        out: list[tuple[Finding, str | None]] = []
        if acc.msg_type == "telemetry":
            if m.acc is not None:
                samples = np.asarray(m.acc.g, dtype=np.float64)
                out += [
                    (f, None) for f in self.falls.update(device.id, m.acc.t0, m.acc.hz, samples)
                ]
            if m.room_temp is not None:
                out += [
                    (f, None) for f in self.environment.update(device.id, m.ts, m.room_temp, now)
                ]
            out += [(f, None) for f in self._vitals(device, m)]
        elif acc.msg_type == "event":
            if m.type in VENDOR_EVENTS:
                data = m.model_dump(exclude={"ts", "seq", "type"}, exclude_none=True)
                finding = finding_from_event(device.id, m.type, m.ts, data)
                if finding is not None:
                    out.append((finding, None))
            if m.type in HAZARD_EVENTS:
                out += [
                    (f, None)
                    for f in self.environment.hazard(
                        device.id, m.type, m.alarm, m.ts, now, room=m.room
                    )
                ]
            resident_id = device.resident_id
            if m.type in ACTIVITY_EVENTS and resident_id is not None:
                activity.append(SensorEvent.from_accepted(resident_id, acc))
        return out

    def _vitals(self, device: Device, m: Any) -> list[Finding]:
        if device.kind in SELF_SERVICE_KINDS:
            if m.sbp is None and m.dbp is None and m.glucose is None:
                return []
            return self.bp_glucose.update(device.id, [m])
        if all(getattr(m, name) is None for name in WEARABLE_VITALS):
            return []
        found = self.vitals.update(device.id, [m])
        flagged = bool(self.vitals.active(device.id))  # no baseline learning while flagged
        return found + self.drift.update(device.id, [m], flagged=flagged)

    def _row(self, f: Finding, resident_id: str | None, now: float) -> FindingRow:
        if resident_id is None:
            resident_id = _resident_of(f, self.devices)
        return FindingRow(
            resident_id, f.device_id, f.kind, f.priority, f.at, now, dict(f.evidence), f.reason
        )


def _resident_of(f: Finding, devices: dict[str, Device]) -> str | None:
    """The resident a finding concerns: named in the evidence (activity findings are per
    resident), else the owner of the device, else the owner of its gateway."""
    named = f.evidence.get("resident_id")
    if isinstance(named, str):
        return named
    device = devices.get(f.device_id)
    if device is None:
        return None
    if device.resident_id is not None:
        return device.resident_id
    gateway = devices.get(device.gateway_id) if device.gateway_id else None
    return gateway.resident_id if gateway is not None else None


def _station_of(
    device: Device, devices: dict[str, Device], residents: dict[str, Resident]
) -> str | None:
    """The station of the resident owning a device (or owning its gateway)."""
    owner = device.resident_id
    if owner is None and device.gateway_id and (gw := devices.get(device.gateway_id)):
        owner = gw.resident_id
    resident = residents.get(owner) if owner else None
    return resident.station_id if resident is not None else None
