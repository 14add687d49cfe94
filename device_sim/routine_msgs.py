"""Everyday messages of a home: births, heartbeats, sensor events, vitals, charging.

Home sensors follow the plan: entering a room fires its PIR sensor (and re-fires every few
minutes while someone moves there, as often as the scenario's ``motion_retrigger_p`` says),
leaving or entering the bed, toilet and front door fire those sensors, and a contact on an
interior door, a cupboard or an appliance opens and closes now and then as the resident
comes into or leaves its room. The wearable sends vitals every ``interval_s`` while worn, is charged
off the wrist after breakfast (``wear`` events around it), drains its battery meanwhile,
and sometimes streams a fall-like burst (sitting down hard) its on-device detector found
suspicious. Sensors behind the gateway send hourly heartbeats; the pendant too.
"""

from __future__ import annotations

import numpy as np

from device_sim import model as m
from device_sim.devices import Device
from device_sim.effects import queue_burst
from device_sim.home import Home
from device_sim.scenario import ContactSpec


def routine_messages(h: Home) -> None:
    for dev in h.devices.values():  # births first: the hub learns interval_s from them
        h.queue(dev, h.epoch, lambda d=dev: d.birth(h.epoch))  # type: ignore[misc]
    _heartbeats(h)
    _sensors(h)
    _wearable(h)
    _bp(h)


def _heartbeats(h: Home) -> None:
    rng = h.rng
    for dev in h.devices.values():
        if dev.kind in ("wearable", "bp_monitor", "glucose_meter") or dev.interval_s is None:
            continue
        step = dev.interval_s
        t = h.epoch + float(rng.uniform(1, min(step, 60)))
        battery = float(rng.uniform(60, 100))
        while t < h.end:
            if dev.kind == "gateway":
                rssi = float(round(rng.normal(-55, 4)))
                h.queue(dev, t, lambda d=dev, t=t, r=rssi: d.telemetry(t, rssi=min(r, -20.0)))  # type: ignore[misc]
            else:
                battery = max(5.0, battery - step / 3600 * 0.01)
                level = float(round(battery))
                h.queue(dev, t, lambda d=dev, t=t, b=level: d.telemetry(t, battery=b))  # type: ignore[misc]
            t += step * float(rng.uniform(0.95, 1.0))


def _sensors(h: Home) -> None:
    gw = h.dev("gw")
    if gw is None:
        return
    rng, plan = h.rng, h.plan

    def motion(t: float, place: int) -> None:
        room = m.ROOM_OF.get(place)
        dev = h.dev(f"m-{room}") if room else None
        if dev is not None:
            h.queue(dev, t, lambda: dev.event(t, "motion", active=True, room=room))

    def ev(dev: Device | None, t: float, type_: str, **f: object) -> None:
        if dev is not None:
            h.queue(dev, t, lambda: dev.event(t, type_, **f))

    bed, toilet, door = h.dev("bed"), h.dev("toilet"), h.dev("door")
    spec = h.sc.devices.gateway
    assert spec is not None
    retrigger = spec.motion_retrigger_p
    contacts = [(c, dev) for c in spec.contacts if (dev := h.dev(c.id)) is not None]
    for i in range(1, len(plan)):
        t = h.day0 + 60.0 * i + float(rng.uniform(0, 40))
        if t >= h.end:
            break
        a, b = int(plan[i - 1]), int(plan[i])
        if a != b:
            if a == m.BED:
                ev(bed, t, "bed", occupied=False)
            if b == m.BED:
                ev(bed, t + 15, "bed", occupied=True)
            if a == m.BATHROOM:
                ev(toilet, t, "toilet", occupied=False, room="bathroom")
            if b == m.BATHROOM:
                ev(toilet, t + 5, "toilet", occupied=True, room="bathroom")
            if m.OUT in (a, b):
                ev(door, t + 2, "door", open=True, door="front", room="hall")
                ev(door, t + 12, "door", open=False, door="front", room="hall")
            if b not in (m.BED, m.OUT, m.FLOOR):
                motion(t + 3, b)
            _contacts(h, contacts, t, a, b)
        elif b in (m.LIVING, m.KITCHEN, m.BATHROOM, m.BEDROOM):
            if rng.random() < retrigger:
                motion(t, b)  # PIR re-trigger while someone moves about
            _used(h, contacts, t, b)


def _contacts(h: Home, contacts: list[tuple[ContactSpec, Device]], t: float, a: int, b: int
              ) -> None:  # fmt: skip
    """Interior doors, cupboards and appliances of the rooms the resident leaves or enters."""
    rooms = (m.ROOM_OF.get(a), m.ROOM_OF.get(b))
    if rooms[0] == rooms[1]:
        return
    for c, dev in contacts:
        if c.room in rooms and h.rng.random() < c.p:
            for at, is_open in ((t + 1, True), (t + 8, False)):
                h.queue(dev, at, lambda d=dev, at=at, o=is_open, c=c: d.event(  # type: ignore[misc]
                    at, "door", open=o, door=c.door, room=c.room))  # fmt: skip


def _used(h: Home, contacts: list[tuple[ContactSpec, Device]], t: float, place: int) -> None:
    """Cupboards and appliances of the room the resident is up and about in."""
    room = m.ROOM_OF.get(place)
    for c, dev in contacts:
        if c.use_p > 0 and c.room == room and h.rng.random() < c.use_p:
            for at, is_open in ((t + 2, True), (t + 20, False)):
                h.queue(dev, at, lambda d=dev, at=at, o=is_open, c=c: d.event(  # type: ignore[misc]
                    at, "door", open=o, door=c.door, room=c.room))  # fmt: skip


def _charge_windows(h: Home) -> list[tuple[float, float]]:
    spec = h.sc.devices.wearable
    assert spec is not None
    out = []
    for day in range(len(h.plan) // 1440):
        kitchen = np.flatnonzero(h.plan[day * 1440 + 300 : day * 1440 + 720] == m.KITCHEN)
        if len(kitchen) and spec.charge_minutes > 0:
            s = h.day0 + (day * 1440 + 300 + int(kitchen[0])) * 60.0 + 30
            if not any(ls <= s < ls + dur + 43_200 for ls, dur in h.low_battery):
                out.append((s, s + spec.charge_minutes * 60))
    return out


def _wearable(h: Home) -> None:
    w, spec = h.dev("w"), h.sc.devices.wearable
    if w is None or spec is None:
        return
    rng = h.rng
    charges = _charge_windows(h)
    for s, e in charges:
        h.queue(w, s, lambda s=s: w.event(s, "wear", worn=False))  # type: ignore[misc]
        h.queue(w, e, lambda e=e: w.event(e, "wear", worn=True))  # type: ignore[misc]
    battery, last = float(rng.uniform(70, 95)), h.day0
    t = h.epoch + float(rng.uniform(0, spec.interval_s))
    drain = spec.drain_pct_per_h / 3600.0
    while t < h.end:
        dt, last = t - last, t
        charging = any(s <= t < e for s, e in charges)
        fast = next(((s, d) for s, d in h.low_battery if s <= t < s + d), None)
        if charging:
            battery = min(100.0, battery + dt * 0.1)
        elif fast is not None:
            battery = max(
                12.0, battery - dt * max(drain, (battery - 12.0) / max(1.0, fast[0] + fast[1] - t))
            )
        else:
            battery = max(3.0, battery - dt * drain)
        level = float(round(battery))
        if charging:
            h.queue(
                w,
                t,
                lambda t=t, b=level: w.telemetry(  # type: ignore[misc]
                    t, battery=b, quality={"worn": False}
                ),
            )
        else:
            place = h.place(t)
            v = m.vitals(h.profile, t, place, h.local_h(t), rng, h.modifiers)
            if place == m.FLOOR:
                v = m.Vitals(v.hr + 12, v.spo2, v.rr + 2, v.temp, v.sbp, v.dbp, False)
            dbp = min(v.dbp, v.sbp - 15)
            quality = {"hr": 0.3 if v.artefact else round(float(rng.uniform(0.85, 0.99)), 2),
                       "spo2": 0.4 if v.artefact else round(float(rng.uniform(0.8, 0.98)), 2),
                       "motion": v.artefact, "worn": True}  # fmt: skip
            body = {"hr": float(v.hr), "spo2": float(v.spo2), "rr": float(v.rr),
                    "temp": v.temp, "sbp": float(v.sbp), "dbp": float(dbp),
                    "battery": float(round(battery)), "rssi": float(round(rng.normal(-65, 5))),
                    "quality": quality}  # fmt: skip
            h.queue(w, t, lambda t=t, b=body: w.telemetry(t, **b))  # type: ignore[misc]
        t += spec.interval_s
    # fall-like daily activities the on-device detector streams for the hub to judge
    hz = float(spec.acc_hz)
    for day in range(len(h.plan) // 1440):
        for _ in range(int(rng.poisson(spec.adl_bursts_per_day))):
            t = h.day0 + day * 86_400.0 + float(rng.uniform(8, 20)) * 3600
            if h.place(t) in (m.OUT, m.BED, m.FLOOR):
                continue
            burst = h.library.adl(rng, hz)
            queue_burst(h, w, t - burst.peak / hz, burst.g, hz)


def _bp(h: Home) -> None:
    bp = h.dev("bp")
    if bp is None:
        return
    rng = h.rng
    for day in range(len(h.plan) // 1440):
        t = h.day0 + day * 86_400.0 + (h.profile.wake_h + 0.8) * 3600 + float(rng.uniform(0, 1200))
        sbp = round(h.profile.sbp + float(rng.normal(0, 6)))
        dbp = min(round(h.profile.dbp + float(rng.normal(0, 4))), sbp - 20)
        hr = round(h.profile.hr + float(rng.normal(0, 3)))
        h.queue(
            bp,
            t,
            lambda t=t, s=sbp, d=dbp, r=hr: bp.telemetry(  # type: ignore[misc]
                t, qos=1, sbp=float(s), dbp=float(d), hr=float(r)
            ),
        )
