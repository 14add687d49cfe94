"""What each incident does to a home: plan changes, vitals, extra or missing messages.

Each function applies one incident kind to a :class:`~device_sim.home.Home` and returns its
:class:`~device_sim.incidents.TruthRecord`.
"""

from __future__ import annotations

import json

import numpy as np

from device_sim import model as m
from device_sim.devices import Device, Message
from device_sim.home import Home
from device_sim.incidents import Incident, TruthRecord


def apply_incident(home: Home, inc: Incident) -> TruthRecord:  # noqa: PLR0911, PLR0912
    k = inc.kind
    if k == "fall":
        return _fall(home, inc)
    if k == "sos":
        dev = home.dev("p") or _need(home.dev("w"), inc)
        home.queue(dev, inc.start, lambda: dev.event(inc.start, "sos", press="long"))
        return home.record(inc, dev)
    if k in ("hypoxia", "tachycardia", "fever"):
        values = {
            "hypoxia": {"spo2": 87.0, "rr": 23.0},
            "tachycardia": {"hr": 138.0},
            "fever": {"temp": 39.4, "hr": 118.0, "rr": 23.0},
        }[k]
        home.modifiers.append(m.Modifier(inc.start, inc.end, values))
        return home.record(inc, home.dev("w"), values=values)
    if k == "not_up":
        day_start = inc.start - (inc.start - home.day0) % m.DAY_S
        home.set_plan(day_start, inc.end, m.BED)
        return home.record(inc, home.dev("bed"))
    if k == "night_exit":
        home.set_plan(inc.start - 60, inc.start, m.HALL)
        home.set_plan(inc.start, inc.end, m.OUT)
        home.set_plan(inc.end, inc.end + 60, m.HALL)
        home.set_plan(inc.end + 60, inc.end + 1800, m.BED)
        return home.record(inc, home.dev("door"))
    if k == "away":  # a weekend with family: out through the front door, back later
        home.set_plan(inc.start - 60, inc.start, m.HALL)
        home.set_plan(inc.start, inc.end, m.OUT)
        home.set_plan(inc.end, inc.end + 60, m.HALL)
        return home.record(inc, home.dev("door"))
    if k == "long_bathroom":
        home.set_plan(inc.start, inc.end, m.BATHROOM)
        return home.record(inc, home.dev("toilet"))
    if k in ("smoke", "gas", "water"):
        dev = _need(home.dev(k), inc)
        room = {"smoke": "kitchen", "gas": "kitchen", "water": "bathroom"}[k]
        home.queue(dev, inc.start, lambda: dev.event(inc.start, k, alarm=True, room=room))
        home.queue(dev, inc.end, lambda: dev.event(inc.end, k, alarm=False, room=room))
        return home.record(inc, dev)
    if k == "gateway_outage":
        gw = _need(home.dev("gw"), inc)
        home.outages.append((inc.start, inc.end))
        for dev in home.devices.values():  # reconnect: births again after the outage
            if dev.conn == gw.id:
                d = dev
                home.queue(d, inc.end + 1, lambda d=d: d.birth(inc.end + 1))  # type: ignore[misc]
        return home.record(inc, gw)
    if k == "low_battery":
        home.low_battery.append((inc.start, inc.duration))
        return home.record(inc, home.dev("w"))
    if k == "clock_drift":
        home.drifts.append((inc.start, inc.end, inc.offset))
        return home.record(inc, home.dev("w"), offset_s=inc.offset)
    if k in ("malformed", "duplicate", "wrong_schema"):
        return _bad(home, inc)
    raise ValueError(f"unknown incident kind {k!r}")


def _need(dev: Device | None, inc: Incident) -> Device:
    if dev is None:
        raise ValueError(f"{inc.kind} incident {inc.id}: {inc.resident_id} has no such device")
    return dev


def _fall(home: Home, inc: Incident) -> TruthRecord:
    wear = _need(home.dev("w"), inc)
    spec = home.sc.devices.wearable
    assert spec is not None
    hz = float(spec.acc_hz)
    burst = home.library.fall(home.rng, hz, inc.gets_up, 15.0 if inc.gets_up else 75.0)
    room = home.place(inc.start)
    lie = 60.0 if inc.gets_up else inc.duration
    home.set_plan(inc.start, inc.start + lie, m.FLOOR)
    if inc.gets_up:
        home.set_plan(inc.start + lie, inc.start + lie + 120, m.LIVING if room == m.BED else room)
    t0 = inc.start - burst.peak / hz
    queue_burst(home, wear, t0, burst.g, hz)
    if spec.on_device_fall_detection:
        peak_g = float(np.linalg.norm(burst.g[burst.peak]))
        home.queue(
            wear,
            inc.start + 2.0,
            lambda: wear.event(
                inc.start + 2.0, "fall", confidence=0.9, impact_g=round(min(peak_g, 64.0), 2)
            ),
        )
    return home.record(inc, wear, source=burst.source, gets_up=inc.gets_up)


def queue_burst(home: Home, dev: Device, t0: float, g: np.ndarray, hz: float) -> None:
    """Stream ``g`` as 1 s acceleration bursts, each sent once it is complete."""
    n = int(hz)
    for i in range(0, len(g), n):
        chunk = np.round(g[i : i + n], 3).tolist()
        start = t0 + i / hz
        at = start + len(chunk) / hz
        home.queue(
            dev,
            at,
            lambda s=start, c=chunk, a=at: dev.telemetry(  # type: ignore[misc]
                a, acc={"t0": round(s, 3), "hz": hz, "g": c}
            ),
        )


def _bad(home: Home, inc: Incident) -> TruthRecord:
    dev = _need(home.dev("w") or home.dev("gw"), inc)
    t = inc.start
    if inc.kind == "malformed":
        home.queue(dev, t, lambda: dev.raw(t, "telemetry", b'{"ts": 17672, "seq": '))
        home.queue(
            dev,
            t + 1,
            lambda: dev.raw(
                t + 1,
                "telemetry",
                json.dumps({"ts": t + 1, "seq": dev.seq + 1, "hr": "72"}).encode(),
            ),
        )
        home.queue(dev, t + 2, lambda: dev.raw(t + 2, "telemetry", b"\xff\xfe not utf-8"))
    elif inc.kind == "duplicate":
        sent: list[Message] = []

        def again(k: int) -> Message | None:
            if k == 0:
                sent.append(dev.telemetry(t, battery=80.0))
                return sent[0]
            return Message(t + k, sent[0].conn, sent[0].topic, sent[0].payload, 1)

        for k in range(3):
            home.queue(dev, t + k, lambda k=k: again(k))  # type: ignore[misc]
    else:  # a vendor sending its own schema instead of the contract's
        bp = home.dev("bp") or dev
        home.queue(
            bp,
            t,
            lambda: bp.raw(
                t,
                "telemetry",
                json.dumps(
                    {"timestamp": int(t), "systolic": 135, "diastolic": 85, "pulse": 70}
                ).encode(),
            ),
        )
    return home.record(inc, dev)
