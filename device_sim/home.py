"""One resident's home: their devices, and every message those devices send over a run.

Devices of a home (ids are prefixed with the resident id): a wearable (``-w``; it declares
itself worn at the waist, where the fall recordings it replays were made), a
pendant SOS button (``-p``), a gateway (``-gw``) speaking for motion sensors per room, a
front-door contact, a bed sensor, a toilet presence sensor, contacts on interior doors,
cupboards and appliances (named or not), smoke/gas/water sensors and a self-service
blood-pressure monitor; the scenario says which a home has. What the sensors report follows
the minute-by-minute plan of :mod:`device_sim.model`; incidents (:mod:`device_sim.incidents`)
change the plan, the vitals or the devices. Messages of one device are built in time order,
so ``seq`` increases with publish time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from device_sim import model as m
from device_sim.devices import Device, Message
from device_sim.falls import FallLibrary
from device_sim.incidents import Incident, TruthRecord, truth_for
from device_sim.scenario import Scenario

Builder = Callable[[], Message | None]


@dataclass(slots=True)
class _Queue:
    items: list[tuple[float, int, Builder]] = field(default_factory=list)

    def add(self, at: float, build: Builder) -> None:
        self.items.append((at, len(self.items), build))


class Home:
    """A resident, their devices and their plan for the run ``[epoch, end)``."""

    def __init__(
        self,
        sc: Scenario,
        index: int,
        resident_id: str,
        epoch: float,
        end: float,
        day0: float,
        library: FallLibrary,
    ) -> None:
        self.sc, self.rid, self.epoch, self.end, self.day0 = sc, resident_id, epoch, end, day0
        self.library = library
        self.rng = np.random.default_rng([sc.seed, index])
        self.profile = m.Profile.draw(resident_id, self.rng)
        n_days = max(1, math.ceil((end - day0) / m.DAY_S))
        late = sc.routine.late_return_p
        self.plan = np.concatenate(
            [m.day_plan(self.profile, self.rng, late) for _ in range(n_days)]
        )
        self.modifiers: list[m.Modifier] = []
        self.devices: dict[str, Device] = {}
        d = sc.devices
        rid = resident_id
        if d.wearable is not None:
            self._add(
                Device(
                    f"{rid}-w",
                    "wearable",
                    resident_id=rid,
                    interval_s=d.wearable.interval_s,
                    capabilities=("hr", "spo2", "rr", "temp", "acc", "fall", "sos"),
                    # Its acceleration is replayed from waist recordings (SisFall) or the
                    # synthetic trunk model, so it says it is worn there: the hub then
                    # judges it with the trunk model, as it would a real belt-clip device.
                    worn_at="waist",
                )
            )
        if d.pendant:
            self._add(
                Device(
                    f"{rid}-p", "pendant", resident_id=rid, interval_s=3600.0, capabilities=("sos",)
                )
            )
        if d.gateway is not None:
            gw = f"{rid}-gw"
            self._add(Device(gw, "gateway", resident_id=rid, interval_s=d.gateway.interval_s))
            hb = d.gateway.heartbeat_s
            for room in d.gateway.rooms:
                self._add(Device(f"{rid}-m-{room}", "motion", gw, rid, interval_s=hb))
            if d.gateway.front_door:
                self._add(Device(f"{rid}-door", "door", gw, rid, interval_s=hb))
            if d.gateway.bed:
                self._add(Device(f"{rid}-bed", "bed", gw, rid, interval_s=hb))
            if d.gateway.toilet:
                self._add(Device(f"{rid}-toilet", "toilet", gw, rid, interval_s=hb))
            for c in d.gateway.contacts:
                self._add(Device(f"{rid}-{c.id}", "door", gw, rid, interval_s=hb))
            for hz in d.gateway.hazards:
                self._add(Device(f"{rid}-{hz}", hz, gw, rid, interval_s=hb))
            if d.bp_monitor:
                self._add(Device(f"{rid}-bp", "bp_monitor", gw, rid))
            if d.glucose_meter:
                self._add(Device(f"{rid}-glu", "glucose_meter", gw, rid))
        self._q: dict[str, _Queue] = {k: _Queue() for k in self.devices}
        self.outages: list[tuple[float, float]] = []
        self.drifts: list[tuple[float, float, float]] = []
        self.low_battery: list[tuple[float, float]] = []
        self.truth: list[TruthRecord] = []

    def _add(self, dev: Device) -> None:
        # Each run is a new boot (its start second): a run numbers its messages from 1
        # again, and a hub that saw an earlier run must not take them for duplicates.
        dev.boot = int(self.epoch)
        self.devices[dev.id] = dev

    def dev(self, suffix: str) -> Device | None:
        return self.devices.get(f"{self.rid}-{suffix}")

    # --- time helpers ----------------------------------------------------------------

    def minute(self, t: float) -> int:
        return max(0, min(len(self.plan) - 1, int((t - self.day0) // 60)))

    def place(self, t: float) -> int:
        return int(self.plan[self.minute(t)])

    def local_h(self, t: float) -> float:
        return ((t - self.day0) % m.DAY_S) / 3600.0

    def set_plan(self, start: float, end: float, place: int) -> None:
        self.plan[self.minute(start) : max(self.minute(start) + 1, self.minute(end))] = place

    # --- building --------------------------------------------------------------------

    def build(self, incidents: list[Incident]) -> list[Message]:
        """Apply the incidents, then produce every message of the home, in time order."""
        from device_sim.effects import apply_incident  # effects need the Home API above

        for inc in incidents:
            self.truth.append(apply_incident(self, inc))
        from device_sim.routine_msgs import routine_messages

        routine_messages(self)
        out: list[Message] = []
        for dev_id, q in self._q.items():
            dev = self.devices[dev_id]
            for at, _, build in sorted(q.items, key=lambda x: (x[0], x[1])):
                dev.clock_offset_s = self._offset(at)
                msg = build()
                if msg is not None and self._keep(msg):
                    out.append(msg)
        out.sort()
        return out

    def queue(self, dev: Device, at: float, build: Builder) -> None:
        self._q[dev.id].add(at, build)

    def _offset(self, at: float) -> float:
        return next((off for s, e, off in self.drifts if s <= at < e), 0.0)

    def _keep(self, msg: Message) -> bool:
        if not self.epoch <= msg.at < self.end:
            return False
        gw = f"{self.rid}-gw"
        return not (msg.conn == gw and any(s <= msg.at < e for s, e in self.outages))

    def record(self, inc: Incident, device: Device | None, **detail: object) -> TruthRecord:
        return truth_for(inc, device.id if device else None, **detail)

    def bad_json(self, dev: Device, at: float, body: dict[str, object]) -> Message:
        return dev.raw(at, "telemetry", json.dumps(body, separators=(",", ":")).encode())
