"""The fault drill: a hub, its own broker and its own database, made to fail on purpose.

:class:`Drill` owns, for one test:

- a PostgreSQL cluster made with ``initdb`` in a temporary directory
  (:class:`tests.fixtures.pg_cluster.PgCluster`), stopped and started again on purpose;
- a Mosquitto with persistence on (sessions, queued and retained messages on disk), which
  can be SIGKILLed and started again on the same port;
- the hub as ``carehub serve`` in a process of its own (:mod:`tests.faults.hub_main`) on the
  simulator's accelerated clock, SIGKILLed and started again on purpose;
- the simulator (``device_sim``) publishing the ``fault-drill`` scenario from a thread.

:meth:`Drill.outcome` then compares what the hub stored with the simulator's ground truth:
each scripted alarm alerted exactly once, no alert that no incident explains, every QoS 1
reading stored, and the hub healthy again by itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import psycopg

from carehub.demo import provision_without_passwords
from device_sim.clock import AcceleratedClock
from device_sim.engine import Run, build_run, default_epoch
from device_sim.runner import PublishCounts, publish_run
from device_sim.scenario import load_scenario
from device_sim.score import EARLY_S
from hub.broker.embedded import free_port
from hub.contract.topics import parse_topic
from hub.store import open_store
from tests.fixtures.brokers import MosquittoProcess
from tests.fixtures.pg_cluster import PgCluster

ROOT = Path(__file__).resolve().parents[2]
ALARM_EVENTS = ("sos", "fall")
"""Event types whose stored row the hub is killed on (test a)."""
READY_TIMEOUT_S = 60.0
QUIET_AFTER_S = 120.0
"""Simulated seconds after the run in which an alert no incident explains is still false
(less than the 180 s of silence after which a wearable is reported offline)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row of the fault table."""

    fault: str
    alarms_expected: int
    alarms_alerted: int
    alarms_lost: list[str]
    alarms_duplicated: int
    false_alerts: list[str]
    telemetry_expected: int
    telemetry_lost: int
    recovered: bool
    faults_injected: int
    telemetry_missing: list[str] = field(default_factory=list)
    """A sample of the lost readings, for diagnosis: device, seq, simulated time, and the
    code of a dead letter stored for it, if any."""

    def row(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "expected": self.alarms_expected,
            "alerted": self.alarms_alerted,
            "lost": len(self.alarms_lost),
            "duplicated": self.alarms_duplicated,
            "false_alerts": len(self.false_alerts),
            "telemetry_expected": self.telemetry_expected,
            "telemetry_lost": self.telemetry_lost,
            "recovered": self.recovered,
            "injected": self.faults_injected,
        }


class Drill:
    """See the module docstring. Use as a context manager; ``speed`` and ``minutes`` set the
    simulated run (``minutes`` of simulated time at ``speed`` × real time)."""

    def __init__(
        self, work: Path, cluster: PgCluster, mosquitto_binary: str, *, speed: float,
        minutes: float,
    ) -> None:  # fmt: skip
        self.work = work
        self.cluster = cluster
        (work / "broker").mkdir(parents=True, exist_ok=True)
        self.broker = MosquittoProcess(mosquitto_binary, work / "broker", free_port(),
                                       persistent=True)  # fmt: skip
        self.speed = speed
        self.scenario = load_scenario("fault-drill", days=minutes * 60.0, speed=speed)
        self.epoch = default_epoch(self.scenario, time.time())
        self.run: Run = build_run(self.scenario, self.epoch)
        self.http_port = free_port()
        self.hub: subprocess.Popen[bytes] | None = None
        self.hub_starts = 0
        self.clock: AcceleratedClock | None = None
        self.counts: PublishCounts | None = None
        self._sim: threading.Thread | None = None
        self._sim_error: BaseException | None = None

    # -- set-up -------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start_services()
        store = open_store(self.cluster.url)
        try:
            provision_without_passwords(store, self.run)
        finally:
            store.close()
        # the hub's clock starts now; the simulator's messages begin a few seconds later
        self.clock = AcceleratedClock(self.epoch, time.time() + 8.0, self.speed)
        try:
            self.start_nodes()
        except BaseException:
            self.__exit__()
            raise
        return self

    def start_services(self) -> None:
        """What the hub needs running before the registry is provisioned."""
        self.cluster.start()
        self.broker.start()

    def start_nodes(self) -> None:
        """The hub itself, on the simulator's clock, until it is ready."""
        self.start_hub()
        self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.kill_hub()
        self.broker.kill()

    # -- the hub ------------------------------------------------------------------------------

    def start_hub(self) -> None:
        assert self.clock is not None
        self.hub_starts += 1
        env = {
            **os.environ,
            "CAREHUB_DATABASE_URL": self.cluster.url,
            "CAREHUB_MQTT_URL": f"{self.broker.url}?client_id=drill-hub&reconnect_max=1",
            "CAREHUB_HTTP_PORT": str(self.http_port),
            "CAREHUB_DATA_DIR": str(self.work / "hub-data"),
            "CAREHUB_BATCH_MAX_DELAY_S": "0.05",
            "CAREHUB_DETECT_TICK_S": "0.25",
            "CAREHUB_REGISTRY_REFRESH_S": "1",
            "CAREHUB_RETRY_MIN_S": "0.2",
            "CAREHUB_RETRY_MAX_S": "1",
            "CAREHUB_STORE_CONNECT_TIMEOUT_S": "1",
            "CAREHUB_HEALTH_PROBE_S": "0.5",
            "CAREHUB_DRILL_EPOCH": repr(self.clock.epoch),
            "CAREHUB_DRILL_ANCHOR": repr(self.clock.anchor),
            "CAREHUB_DRILL_SPEED": repr(self.clock.speed),
        }
        log = (self.work / f"hub-{self.hub_starts}.log").open("wb")
        self.hub = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.hub_main"], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def kill_hub(self) -> None:
        """SIGKILL: no clean stop, nothing flushed, no goodbye to the broker."""
        hub, self.hub = self.hub, None
        if hub is not None and hub.poll() is None:
            hub.send_signal(signal.SIGKILL)
            hub.wait(timeout=10)

    def healthy(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.http_port}/healthz"
            with urllib.request.urlopen(url, timeout=1) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.hub is None or self.hub.poll() is not None:
                raise AssertionError(f"the hub exited:\n{self.hub_log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the hub did not become healthy:\n{self.hub_log()}")
            time.sleep(0.05)

    def hub_log(self) -> str:
        path = self.work / f"hub-{self.hub_starts}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # -- the simulator ------------------------------------------------------------------------

    def start_simulator(self) -> None:
        assert self.clock is not None

        def publish() -> None:
            try:
                assert self.clock is not None
                self.counts = publish_run(self.run, self.broker.url, self.clock, {})
            except BaseException as exc:  # reported by wait_simulator
                self._sim_error = exc

        self._sim = threading.Thread(target=publish, name="drill-simulator", daemon=True)
        self._sim.start()

    def simulating(self) -> bool:
        return self._sim is not None and self._sim.is_alive()

    def wall_at(self, fraction: float) -> float:
        """The wall time at which this fraction of the run has been simulated."""
        assert self.clock is not None
        return self.clock.wall_for(self.epoch + fraction * self.scenario.duration_s)

    def wait_simulator(self, settle_s: float = 4.0) -> None:
        assert self._sim is not None
        self._sim.join(timeout=self.scenario.duration_s / self.speed + 120.0)
        assert not self._sim.is_alive(), "the simulator did not finish"
        if self._sim_error is not None:
            raise self._sim_error
        time.sleep(settle_s)  # the hub stores and judges the last messages

    # -- the database -------------------------------------------------------------------------

    def alarm_rows(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            "SELECT count(*) FROM events WHERE type = ANY(%s)", [list(ALARM_EVENTS)]
        ).fetchone()
        return int(row[0]) if row else 0

    # -- the verdict --------------------------------------------------------------------------

    def outcome(self, fault: str, injected: int, allowance_s: float) -> Outcome:
        """Compare the store with the ground truth. ``allowance_s`` (simulated seconds) is
        added to each incident's deadline: an alarm delayed by the fault is late, not lost."""
        recovered = self.hub is not None and self.hub.poll() is None and self.healthy()
        with psycopg.connect(self.cluster.url, autocommit=True) as conn:
            occurrences = conn.execute(
                "SELECT a.id, a.kind, a.resident_id, extract(epoch FROM t.at), a.data "
                "FROM alerts a "
                "JOIN alert_timeline t ON t.alert_id = a.id "
                "WHERE t.action IN ('opened', 'repeated') ORDER BY t.at"
            ).fetchall()
            stored = set(conn.execute("SELECT device_id, seq FROM telemetry").fetchall())
            found = conn.execute(
                "SELECT resident_id, kind, extract(epoch FROM at) FROM findings ORDER BY at"
            ).fetchall()
            refused = conn.execute(
                "SELECT device_id, payload, code FROM dead_letters WHERE topic LIKE %s",
                ["%/telemetry"],
            ).fetchall()
        expected_alarms = [r for r in self.run.truth if r.alert is not None]
        residents = set(self.run.info.residents)
        occ = [(aid, kind, rid, float(at)) for aid, kind, rid, at, _d in occurrences
               if rid in residents and at <= self.run.info.end + allowance_s]  # fmt: skip
        evidence = {aid: data for aid, _k, _r, _t, data in occurrences}
        explained: set[int] = set()
        lost: list[str] = []
        for r in expected_alarms:
            kinds = (r.alert, *r.also)
            hits = [i for i, (_a, kind, rid, at) in enumerate(occ)
                    if kind in kinds and rid == r.resident_id
                    and r.start - EARLY_S <= at <= r.deadline + allowance_s]  # fmt: skip
            if not any(occ[i][1] == r.alert for i in hits):
                seen = [f"{k}@+{float(at) - self.epoch:.0f}" for rid, k, at in found
                        if rid == r.resident_id]  # fmt: skip
                lost.append(f"{r.incident} {r.resident_id} at +{r.start - self.epoch:.0f} s "
                            f"(findings: {', '.join(seen) or 'none'}; wearable readings"
                            f" seq@sent+delay=temp/hr: {self._readings(r.resident_id)})"
                            )  # fmt: skip
            explained.update(hits)
        # after the run the simulated devices fall silent: offline alerts then are not false
        false = [f"{kind} {rid} at +{at - self.epoch:.0f} s: {str(evidence[a])[:300]}"
                 for i, (a, kind, rid, at) in enumerate(occ)
                 if i not in explained and at <= self.run.info.end + QUIET_AFTER_S]  # fmt: skip
        # more alerts of an alarm kind for a resident than incidents of that kind: the same
        # alarm opened twice (a second finding of an open alert only adds to its timeline)
        truth_n = Counter((r.alert, r.resident_id) for r in expected_alarms)
        ids: dict[tuple[str, str], set[str]] = {}
        for aid, kind, rid, _t in occ:
            if (kind, rid) in truth_n:
                ids.setdefault((kind, rid), set()).add(aid)
        duplicated = sum(max(0, len(v) - truth_n[key]) for key, v in ids.items())
        expected_tel = self.expected_telemetry()
        missing = sorted(set(expected_tel) - stored)
        return Outcome(
            fault, len(expected_alarms), len(expected_alarms) - len(lost), lost, duplicated,
            false, len(expected_tel), len(missing), recovered, injected,
            self._describe_missing(missing, expected_tel, refused),
        )  # fmt: skip

    def _describe_missing(
        self, missing: list[tuple[str, int]], sent: dict[tuple[str, int], float],
        refused: list[tuple[str, bytes, str]],
    ) -> list[str]:  # fmt: skip
        codes: dict[tuple[str, int], str] = {}
        for device, payload, code in refused:
            try:
                codes[(device, json.loads(payload)["seq"])] = code
            except (ValueError, KeyError, TypeError):
                continue
        return [f"{d} seq {q} at +{sent[(d, q)] - self.epoch:.0f} s"
                f"{' refused ' + codes[(d, q)] if (d, q) in codes else ''}"
                for d, q in missing[:12]]  # fmt: skip

    def _readings(self, resident_id: str) -> str:
        """The wearable's stored readings, for a lost vital-sign alarm: when each was sent
        (simulated seconds since the start), how late it arrived, and its values."""
        with psycopg.connect(self.cluster.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT seq, extract(epoch FROM ts)::float8, extract(epoch FROM received_at)"
                "::float8, temp, hr FROM telemetry WHERE device_id = %s ORDER BY received_at",
                [f"{resident_id}-w"],
            ).fetchall()
        return " ".join(f"{q}@+{ts - self.epoch:.0f}+{rx - ts:.0f}={t}/{h}"
                        for q, ts, rx, t, h in rows)  # fmt: skip

    def expected_telemetry(self) -> dict[tuple[str, int], float]:
        """(device, seq) of every QoS 1 reading the simulator published → its simulated time."""
        out: dict[tuple[str, int], float] = {}
        for msg in self.run.messages:
            if msg.qos != 1 or not msg.topic.endswith("/telemetry"):
                continue
            parsed = parse_topic(msg.topic)
            try:
                seq = json.loads(msg.payload)["seq"]
            except (ValueError, KeyError, TypeError):
                continue
            if parsed is not None and isinstance(seq, int):
                out[(parsed.device_id, seq)] = msg.at
        return out


def report(outcome: Outcome, path: Path | None = None) -> str:
    """One line of the fault table, appended to ``path`` (``CAREHUB_FAULT_REPORT``) as JSON."""
    line = json.dumps(outcome.row())
    target = path or (Path(p) if (p := os.environ.get("CAREHUB_FAULT_REPORT")) else None)
    if target is not None:
        with target.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
    return line
