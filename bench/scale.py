"""Scale-out: the cluster mode against the single node on the same load, and failover time.

1. ``scale_workers_vs_single``: telemetry messages per second stored by one bridge and two
   workers (``carehub bridge``, ``carehub worker``: separate processes, NATS JetStream
   between them) divided by the rate of one ``carehub serve`` on the same load, in the same
   run: a publisher process sends ``devices × per_device`` QoS 1 vital-sign messages to a
   throwaway Mosquitto, and the rate is the count over the time from the first publish
   to the last row in PostgreSQL. Detection runs in both. On a machine with few cores the
   cluster's extra hops (JetStream, a second process) share the same cores with the single
   node's work, so this ratio measures the cluster's overhead there, not its scaling.
2. ``failover_p_max_s``: a worker is SIGKILLed; one message is then published to a device
   in each of the partitions it held; the worst time from the kill to such a message being
   stored (lease expiry, claim, consumer takeover, warm-up, commit) over ``--kills`` kills.

Run: ``.venv/bin/python -m bench.scale`` (``--devices``, ``--per-device``, ``--kills``).
Results are merged into ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import Figure, mosquitto, pg_database, record, show
from hub.broker.embedded import free_port
from hub.cluster.partition import partition_of
from hub.store import open_store
from hub.store.base import Device

PARTITIONS = 16
LEASE_TTL_S = 3.0


@contextlib.contextmanager
def nats_server() -> Iterator[str]:
    from tests.fixtures.nats import NatsProcess, find_nats_server

    binary = find_nats_server()
    if binary is None:
        raise SystemExit("nats-server is not installed: run `make system-deps`")
    with tempfile.TemporaryDirectory() as tmp:
        proc = NatsProcess(binary, Path(tmp), free_port())
        proc.start()
        try:
            yield proc.url
        finally:
            proc.stop()


class Nodes:
    """carehub processes, stopped (SIGTERM, then SIGKILL) at the end."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env = env
        self.logdir = logdir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        log = (self.logdir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "carehub", *args], env=self.env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()


def count(db: str, table: str = "telemetry") -> int:
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def wait_for(what: str, check: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def provision(db: str, devices: int) -> None:
    store = open_store(db)
    try:
        now = time.time()
        store.add_devices(
            [(Device(f"bench-{d:05d}", "wearable", created_at=now), None) for d in range(devices)]
        )
    finally:
        store.close()


def load(mqtt: str, db: str, devices: int, per_device: int, start_seq: int) -> float:
    """Publish the load; messages/s from the first publish to the last stored row."""
    before = count(db)
    n = devices * per_device
    started = time.perf_counter()
    pub = subprocess.Popen(
        [sys.executable, "-m", "bench.publisher", mqtt, "--devices", str(devices),
         "--per-device", str(per_device), "--start-seq", str(start_seq), "--qos", "1"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for("the load stored", lambda: count(db) >= before + n, timeout=600)
    elapsed = time.perf_counter() - started
    pub.wait(30)
    return n / elapsed


def owners(db: str) -> dict[int, str]:
    with psycopg.connect(db, autocommit=True) as conn:
        rows = conn.execute("SELECT partition, owner FROM partition_fence").fetchall()
    return {int(p): str(o) for p, o in rows}


def prober(mqtt: str) -> paho.Client:
    """A connected client for the probe messages (connected before the kill: its own
    connection time is not the cluster's failover)."""
    host, port = mqtt.removeprefix("mqtt://").split(":")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{time.time_ns()}")
    client.connect(host, int(port))
    client.loop_start()
    return client


def probe(client: paho.Client, device: str, seq: int) -> None:
    body = {"ts": round(time.time(), 3), "seq": seq, "hr": 70.0}
    topic = f"carehub/v1/devices/{device}/telemetry"
    client.publish(topic, json.dumps(body), qos=1).wait_for_publish(10)


def stored(db: str, device: str, seq: int) -> bool:
    with psycopg.connect(db, autocommit=True) as conn:
        row = conn.execute(
            "SELECT 1 FROM telemetry WHERE device_id = %s AND seq = %s", (device, seq)
        ).fetchone()
    return row is not None


def failover(mqtt: str, db: str, nodes: Nodes, devices: int, kills: int) -> list[float]:
    """Seconds from a worker's SIGKILL to a message in each of its partitions stored."""
    by_part: dict[int, str] = {}
    for d in range(devices):
        by_part.setdefault(partition_of(f"bench-{d:05d}", PARTITIONS), f"bench-{d:05d}")
    worst: list[float] = []
    seq = 10_000_000
    for k in range(kills):
        victim = "w1" if k % 2 == 0 else "w2"
        held = [p for p, o in owners(db).items() if o == victim]
        client = prober(mqtt)
        killed = time.monotonic()
        nodes.kill(victim)
        pending = {}
        for p in held:
            seq += 1
            probe(client, by_part[p], seq)
            pending[p] = (by_part[p], seq)
        times = []
        claimed: float | None = None
        while pending:
            if claimed is None and all(owners(db).get(p) != victim for p in held):
                claimed = time.monotonic() - killed
            for p, (dev, s) in list(pending.items()):
                if stored(db, dev, s):
                    times.append(time.monotonic() - killed)
                    del pending[p]
            if time.monotonic() - killed > 120:
                raise SystemExit(f"partitions {sorted(pending)} not live again after 120 s")
            time.sleep(0.05)
        client.loop_stop()
        client.disconnect()
        worst.append(max(times))
        print(
            f"kill {k + 1}: partitions claimed after {claimed or 0:.1f} s, "
            f"messages stored after {max(times):.1f} s"
        )
        nodes.start(victim, "worker", "--id", victim)  # back, and the share evens out
        wait_for(
            "the partitions evened out",
            lambda: (
                sorted(__import__("collections").Counter(owners(db).values()).values())
                == [PARTITIONS // 2, PARTITIONS // 2]
            ),
            timeout=60,
        )
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=500)
    ap.add_argument("--per-device", type=int, default=40)
    ap.add_argument("--kills", type=int, default=3)
    args = ap.parse_args()
    with (
        mosquitto() as mqtt, nats_server() as nats, pg_database() as db,
        tempfile.TemporaryDirectory() as tmp,
    ):  # fmt: skip
        provision(db, args.devices)
        env = {
            **os.environ, "CAREHUB_DATABASE_URL": db, "CAREHUB_NATS_URL": nats,
            "CAREHUB_PARTITIONS": str(PARTITIONS), "CAREHUB_LEASE_TTL_S": str(LEASE_TTL_S),
            "CAREHUB_HTTP_PORT": str(free_port()), "CAREHUB_ENVIRONMENT": "development",
        }  # fmt: skip
        logs = Path(os.environ.get("CAREHUB_BENCH_LOGS") or tmp)  # keep them: set a directory
        # single node
        single = Nodes({**env, "CAREHUB_MQTT_URL": f"{mqtt}?client_id=bench-hub"}, logs)
        single.start("serve", "serve")
        time.sleep(4.0)  # started and subscribed
        single_rate = load(mqtt, db, args.devices, args.per_device, start_seq=0)
        single.stop_all()
        # cluster: one bridge, two workers
        cluster = Nodes({**env, "CAREHUB_MQTT_URL": mqtt}, logs)
        cluster.start("b1", "bridge", "--id", "bench-b1")
        cluster.start("w1", "worker", "--id", "w1")
        cluster.start("w2", "worker", "--id", "w2")
        wait_for(
            "the partitions spread over both workers",
            lambda: len(owners(db)) == PARTITIONS and set(owners(db).values()) == {"w1", "w2"},
            timeout=60,
        )
        try:
            cluster_rate = load(mqtt, db, args.devices, args.per_device, start_seq=args.per_device)
            worst = failover(mqtt, db, cluster, args.devices, args.kills)
        except SystemExit:
            for name in ("b1", "w1", "w2"):
                path = logs / f"{name}.log"
                if path.exists():
                    print(f"--- {name}\n{path.read_text()[-3000:]}")
            raise
        finally:
            cluster.stop_all()
    results = {
        "scale_workers_vs_single": round(cluster_rate / single_rate, 3),
        "scale_single_msgs_per_s": round(single_rate),
        "scale_cluster_msgs_per_s": round(cluster_rate),
        "failover_p_max_s": round(max(worst), 2),
    }
    show(
        "scale-out (1 bridge + 2 workers vs carehub serve)",
        [
            ("single node msgs/s", f"{single_rate:,.0f}"),
            ("cluster msgs/s", f"{cluster_rate:,.0f}"),
            ("scale_workers_vs_single", f"{results['scale_workers_vs_single']:.2f}"),
            ("failover per kill (s)", ", ".join(f"{w:.1f}" for w in worst)),
            ("failover_p_max_s", f"{results['failover_p_max_s']:.2f}"),
        ],
    )
    record([Figure(key, value, 1) for key, value in results.items()])


if __name__ == "__main__":
    main()
