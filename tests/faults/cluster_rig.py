"""The cluster drill: bridges and workers in processes of their own, made to fail.

:class:`ClusterDrill` is the fault drill (:class:`tests.faults.rig.Drill`: the simulator,
its ground truth and the verdict) with the single hub replaced by the cluster mode: a
Mosquitto with persistence on, a nats-server with JetStream (both its own), a throwaway
database on the test PostgreSQL, and ``carehub bridge`` / ``carehub worker`` processes
(:mod:`tests.faults.cluster_main`) on the simulator's clock. Workers can be SIGKILLed,
paused (SIGSTOP, at the moment they are about to commit an alarm) and resumed, and added.
Besides the drill's verdict on alerts it counts findings stored more than once (same
device, kind and time): what a worker that lost its partition but kept committing leaves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from hub.broker.embedded import free_port
from hub.cluster.partition import partition_of
from tests.faults.rig import ROOT, Drill
from tests.fixtures.nats import NatsProcess

PARTITIONS = 16
LEASE_TTL_S = 3.0


@dataclass
class _Database:
    url: str

    def start(self) -> None:
        """Nothing to start: a throwaway database on the test server."""


class ClusterDrill(Drill):
    """See the module docstring. ``fencing`` off only for the control run."""

    def __init__(
        self, work: Path, db_url: str, mosquitto_binary: str, nats_binary: str, *,
        speed: float, minutes: float, fencing: bool = True,
    ) -> None:  # fmt: skip
        (work / "nats").mkdir(parents=True, exist_ok=True)
        super().__init__(work, _Database(db_url), mosquitto_binary, speed=speed, minutes=minutes)  # type: ignore[arg-type]
        self.nats = NatsProcess(nats_binary, work / "nats", free_port())
        self.fencing = fencing
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.events: list[tuple[str, float]] = []

    def start_services(self) -> None:
        self.broker.start()
        self.nats.start()

    def start_nodes(self) -> None:
        for b in ("b1", "b2"):
            self.start_node("bridge", b)
        for w in ("w1", "w2", "w3"):
            self.start_node("worker", w)
        self.wait_spread({"w1", "w2", "w3"})

    def __exit__(self, *exc: object) -> None:
        for name in list(self.procs):
            self.kill(name)
        self.nats.stop()
        self.broker.kill()

    def start_node(self, role: str, name: str) -> None:
        assert self.clock is not None
        env = {
            **os.environ,
            "CAREHUB_DATABASE_URL": self.cluster.url,
            "CAREHUB_MQTT_URL": f"{self.broker.url}?client_id=drill-{name}&reconnect_max=1",
            "CAREHUB_NATS_URL": self.nats.url,
            "CAREHUB_PARTITIONS": str(PARTITIONS),
            "CAREHUB_LEASE_TTL_S": str(LEASE_TTL_S),
            "CAREHUB_FENCING": "true" if self.fencing else "false",
            "CAREHUB_BATCH_MAX_DELAY_S": "0.05",
            "CAREHUB_DETECT_TICK_S": "0.25",
            "CAREHUB_REGISTRY_REFRESH_S": "1",
            "CAREHUB_DRILL_EPOCH": repr(self.clock.epoch),
            "CAREHUB_DRILL_ANCHOR": repr(self.clock.anchor),
            "CAREHUB_DRILL_SPEED": repr(self.clock.speed),
        }
        if role == "worker":
            env["CAREHUB_DRILL_PAUSE_FILE"] = str(self.work / f"pause-{name}")
        log = (self.work / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.cluster_main", role, name], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        self.events.append((f"start {name}", time.monotonic()))

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            self.events.append((f"kill {name}", time.monotonic()))

    def stopped(self, name: str) -> bool:
        """True once the process is stopped by a signal (state T)."""
        stat = Path(f"/proc/{self.procs[name].pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")

    def next_alarm_owner(self, margin_s: float) -> tuple[str, float]:
        """The worker that holds the resident of the next scripted SOS or fall at least
        ``margin_s`` (wall seconds) away, and the wall seconds until it."""
        assert self.clock is not None
        now = self.clock.now()
        upcoming = sorted(
            (r for r in self.run.truth
             if r.incident in ("sos", "fall") and r.start > now + margin_s * self.speed),
            key=lambda r: r.start,
        )  # fmt: skip
        assert upcoming, "no alarm left in the run to pause a worker on"
        r = upcoming[0]
        owner = self.owners()[partition_of(r.resident_id, PARTITIONS)]
        return owner, (r.start - now) / self.speed

    def pause_at_next_alarm(self, name: str, *, hold_s: float, within_s: float) -> bool:
        """Arm the pause, wait for the worker to stop itself, hold it ``hold_s`` and until
        every partition it held is claimed by another worker, resume.

        Waiting for the claims is what makes the resumed commit stale: with no newer epoch
        in the store yet (the others had not noticed the lapsed lease, as on a loaded
        machine) the paused worker is still the partition's last owner and fencing rightly
        lets it commit."""
        (self.work / f"pause-{name}").touch()
        deadline = time.monotonic() + within_s
        while not self.stopped(name):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        self.events.append((f"pause {name}", time.monotonic()))
        held = {p for p, o in self.owners().items() if o == name}
        time.sleep(hold_s)
        claimed_by = time.monotonic() + 30.0
        while time.monotonic() < claimed_by:
            owners = self.owners()
            if not any(owners.get(p) == name for p in held):
                break
            time.sleep(0.1)
        self.procs[name].send_signal(signal.SIGCONT)
        self.events.append((f"resume {name}", time.monotonic()))
        return True

    def owners(self) -> dict[int, str]:
        with psycopg.connect(self.cluster.url, autocommit=True) as conn:
            rows = conn.execute("SELECT partition, owner FROM partition_fence").fetchall()
        return {int(p): str(o) for p, o in rows}

    def wait_spread(self, workers: set[str], timeout: float = 60.0) -> None:
        """Until every partition is held, by each of ``workers``, none by another."""
        deadline = time.monotonic() + timeout
        while True:
            owners = self.owners()
            held = set(owners.values())
            if len(owners) == PARTITIONS and held == workers:
                return
            if time.monotonic() > deadline:
                logs = {n: self.node_log(n)[-1500:] for n in self.procs}
                raise AssertionError(f"partitions not spread over {workers}: {owners}\n{logs}")
            time.sleep(0.1)

    def node_log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def healthy(self) -> bool:
        return all(p.poll() is None for p in self.procs.values())

    def duplicated_findings(self) -> int:
        """Findings stored more than once (same device, kind and time)."""
        with psycopg.connect(self.cluster.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM findings"
                " GROUP BY device_id, kind, at HAVING count(*) > 1) d"
            ).fetchone()
        return int(row[0]) if row else 0

    def verdict(self, fault: str, injected: int) -> dict[str, Any]:
        allowance = (LEASE_TTL_S + 5.0) * self.speed  # late by at most the lease + 5 s
        out = self.outcome(fault, injected, allowance)
        row = out.row()
        # recovered: every node still running and every partition held by a live worker
        live = {n for n, p in self.procs.items() if p.poll() is None}
        row["recovered"] = self.healthy() and set(self.owners().values()) <= live
        row["findings_duplicated"] = self.duplicated_findings()
        # commits the store accepted from a worker resumed after its lease lapsed
        row["stale_commits"] = len(list(self.work.glob("pause-*.stale-commit")))
        row["lost_detail"] = out.alarms_lost
        row["false_detail"] = out.false_alerts
        return row
