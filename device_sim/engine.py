"""A whole run: every home of a scenario, their messages in time order, and the truth.

>>> from device_sim.scenario import load_scenario
>>> run = build_run(load_scenario("ci-compressed"), epoch=1_767_225_600.0)
>>> run.messages == build_run(load_scenario("ci-compressed"), epoch=1_767_225_600.0).messages
True
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

from device_sim.devices import Device, Message
from device_sim.falls import FallLibrary
from device_sim.home import Home
from device_sim.incidents import RunInfo, TruthRecord, resolve
from device_sim.scenario import Scenario, parse_hhmm


@dataclass(frozen=True, slots=True)
class Run:
    scenario: Scenario
    info: RunInfo
    homes: tuple[Home, ...]
    messages: list[Message]
    truth: list[TruthRecord]

    @property
    def devices(self) -> list[Device]:
        return [d for h in self.homes for d in h.devices.values()]

    def connections(self) -> list[Device]:
        """Devices that hold their own MQTT connection (wearables, pendants, gateways)."""
        return [d for d in self.devices if d.gateway_id is None]


def local_midnight(t: float, utc_offset_h: float) -> float:
    off = utc_offset_h * 3600.0
    return (t + off) // 86_400.0 * 86_400.0 - off


def default_epoch(sc: Scenario, now: float | None = None) -> float:
    """Now, or the latest local ``start`` time of day at or before now."""
    now = time.time() if now is None else now
    if sc.start is None:
        return now
    t = local_midnight(now, sc.utc_offset_h) + parse_hhmm(sc.start)
    return t if t <= now else t - 86_400.0


def build_run(sc: Scenario, epoch: float, library: FallLibrary | None = None) -> Run:
    """Generate the whole run (deterministic for the scenario's seed and ``epoch``)."""
    library = library if library is not None else FallLibrary()
    end = epoch + sc.duration_s
    day0 = local_midnight(epoch, sc.utc_offset_h)
    ids = sc.resident_ids()
    incidents = resolve(sc, epoch, day0)
    homes = []
    streams = []
    truth: list[TruthRecord] = []
    for i, rid in enumerate(ids):
        home = Home(sc, i, rid, epoch, end, day0, library)
        streams.append(home.build([x for x in incidents if x.resident_id == rid]))
        truth += home.truth
        homes.append(home)
    info = RunInfo(sc.name, sc.seed, epoch, end, sc.speed, tuple(ids))
    messages = list(heapq.merge(*streams))
    truth.sort(key=lambda r: (r.start, r.id))
    return Run(sc, info, tuple(homes), messages, truth)
