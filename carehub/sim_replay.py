"""``carehub sim replay``: a scenario's messages through the hub's own data path, in process.

No broker, no accelerated clock, no second process: the simulator builds the run
(:func:`device_sim.engine.build_run`), and every message goes, in receive order and at its
simulated time, through what the hub runs on it: the ingest core
(:class:`hub.ingest.core.Ingest`: topic, registry, schema, ``seq``, clock offset,
warnings), the detector router (:class:`hub.detect.router.Detection`; events and status at
once, telemetry in batches, ticked every ``tick_s`` of simulated time as
:class:`hub.runtime.detection_runner.DetectionRunner` does), the store (findings written, so
alerts point at them) and the alert engine (:class:`alerts.engine.AlertEngine`: one alert
per resident and kind, repeats, clears). The run is then scored against its ground truth
as ``sim score`` does (:func:`device_sim.score.score` over the store's alert timelines);
incidents a shortened run never reaches are left out.

What it leaves out is transport and concurrency: MQTT delivery, the pipeline's batches and
the horizon (every message is through the detectors before the next tick, so the horizon
is never behind), notifications and escalation rounds. Those are ``sim eval``'s to
measure; this is for the detectors' figures over weeks of simulated time in seconds, e.g.
the sparse homes of ``device_sim/scenarios/sparse-home.yaml`` in CI.

>>> from device_sim.scenario import load_scenario
>>> sc = load_scenario("sparse-home", days="1d", residents={"count": 1}, incidents=[])
>>> res = replay(sc, epoch=1_772_380_800.0)
>>> res.score["false_alerts"], res.accepted > 0, res.refused
(0, True, 0)
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import orjson

from alerts.directory import StoreDirectory
from alerts.engine import AlertEngine
from carehub.demo import provision_without_passwords
from device_sim.devices import Message
from device_sim.engine import build_run
from device_sim.incidents import RunInfo, TruthRecord
from device_sim.scenario import Scenario
from device_sim.score import occurrences_from_store, score
from hub.detect.router import Detection
from hub.ingest.core import Ingest
from hub.store import open_store
from hub.store.base import FindingRow, Store

TICK_S = 60.0
"""Simulated seconds between detection ticks (the hub ticks every few wall seconds)."""
LATENCY_S = 0.5
"""Receive time after the device's send time (a message's way through broker and hub)."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message as the MQTT adapter would hand it over (:class:`hub.ingest.core.InboundLike`)."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received_at: float
    mid: int = 0


@dataclass(frozen=True, slots=True)
class ReplayResult:
    info: RunInfo
    truth: list[TruthRecord]
    score: dict[str, Any]
    findings: Counter[str]
    """Findings by kind (before the alert engine groups them)."""
    warnings: Counter[str]
    """Warning reports sent back to devices, by code (``door_unnamed``...)."""
    accepted: int
    events: int
    """Accepted event messages (motion, door...), the rest being telemetry and status."""
    refused: int
    wall_s: float


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class _HubPath:
    """Ingest → detectors → stored findings → alert engine, on a clock set by the caller."""

    def __init__(self, store: Store, epoch: float) -> None:
        self.store = store
        self.clock = _Clock(epoch)
        devices = store.list_devices()
        self.ingest = Ingest(clock=self.clock)
        self.ingest.set_devices(devices)
        self.detection = Detection(clock=self.clock)
        self.detection.set_registry(devices, store.list_residents())
        ids = itertools.count(1)
        self.engine = AlertEngine(store, StoreDirectory(store, ttl_s=0.0),
                                  new_id=lambda prefix: f"{prefix}-{next(ids)}")  # fmt: skip
        self.engine.recover(epoch)
        self.findings: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self.accepted = self.events = self.refused = 0
        self.held = False

    def receive(self, msg: Message, at: float) -> None:
        self.clock.now = max(self.clock.now, at)
        self.ingest.handle(Inbound(msg.topic, msg.payload, msg.qos, msg.retain, at))
        self.held = True

    def observe(self) -> None:
        """The messages received since the last call, through the detectors."""
        if not self.held:
            return
        self.held = False
        pending = self.ingest.take()
        self.ingest.ack_now.clear()
        self.accepted += len(pending.accepted)
        self.events += len(pending.events)
        self.refused += len(pending.dead_letters)
        reports = (orjson.loads(out.payload) for out in pending.outbox)
        self.warnings.update(str(r.get("code")) for r in reports if r.get("severity") == "warning")
        self._alert(self.detection.observe(pending.accepted))

    def tick(self, now: float) -> None:
        self.clock.now = now
        self._alert(self.detection.tick(now))

    def _alert(self, rows: list[FindingRow]) -> None:
        """Store the findings, then hand them to the engine (as the detection runner does)."""
        if not rows:
            return
        ids = self.store.write_findings(rows)
        stored = [replace(r, id=i) for r, i in zip(rows, ids, strict=True)]
        for row in stored:
            self.findings[row.kind] += 1
            self.engine.on_finding(row, self.clock.now)
        self.store.mark_findings_handled([r.id for r in stored if r.id is not None], self.clock.now)


def replay(
    sc: Scenario, *, epoch: float, tick_s: float = TICK_S, latency_s: float = LATENCY_S,
    store: Store | None = None,
) -> ReplayResult:  # fmt: skip
    """Build ``sc`` from ``epoch`` and replay it through the hub's data path (see the module
    docstring); ``store`` defaults to a throwaway in-memory SQLite store."""
    started = time.monotonic()
    run = build_run(sc, epoch)
    db = store if store is not None else open_store("sqlite://:memory:")
    try:
        provision_without_passwords(db, run)
        hub = _HubPath(db, epoch)
        # events and status changes go through the detectors at once, as in the hub (an
        # alarm does not wait for a batch to fill); telemetry in batches between ticks
        next_tick = epoch + tick_s
        for msg in run.messages:
            at = msg.at + latency_s
            if at >= next_tick:
                hub.observe()
                while next_tick <= at:
                    hub.tick(next_tick)
                    next_tick += tick_s
            hub.receive(msg, at)
            if not msg.topic.endswith("/telemetry"):
                hub.observe()
        hub.observe()
        while next_tick <= run.info.end:
            hub.tick(next_tick)
            next_tick += tick_s
        # an incident the scenario puts after the end (a shortened run) did not happen
        truth = [r for r in run.truth if r.start < run.info.end]
        result = score(run.info, truth, occurrences_from_store(db, run.info))
    finally:
        if store is None:
            db.close()
    return ReplayResult(run.info, truth, result, hub.findings, hub.warnings, hub.accepted,
                        hub.events, hub.refused, time.monotonic() - started)  # fmt: skip
