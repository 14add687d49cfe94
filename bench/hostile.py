"""What hostile devices cost the hub: bytes stored and the hub's memory after each attack.

Each scenario runs against a fresh ``carehub serve`` (embedded broker, SQLite in a temporary
directory) in its own process, so its resident set size is the hub's (the embedded broker
included, as in the default set-up):

- ``big``: one 100 MB publish on a provisioned wearable's telemetry topic;
- ``flood``: 10 s of 60 KB messages from one wearable, as fast as it can send them (all
  but the first burst are over the rate limit);
- ``unknown``: 10 s of small messages from a provisioned gateway, each for a sub-device id
  never seen before.

Run ``python -m bench.hostile`` (``--seconds``, ``--big-mb`` to shorten it); results go to
bench/hostile.json (one run per case). "stored" counts the dead letters' payload bytes, and
"db" the size of the database files after the hub settled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import HERE, show
from hub.broker.embedded import free_port
from hub.registry.provisioning import provision_device
from hub.store import open_store
from hub.store.base import Device

SETTLE_S = 3.0


def _rss_kb(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of ``pid`` in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


@contextlib.contextmanager
def hub_process(data: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A ``carehub serve`` with its data in ``data``; yields (process, MQTT port)."""
    mqtt_port, http_port = free_port(), free_port()
    env = {
        **os.environ,
        "CAREHUB_DATA_DIR": str(data),
        "CAREHUB_EMBEDDED_MQTT_PORT": str(mqtt_port),
        "CAREHUB_HTTP_PORT": str(http_port),
        "CAREHUB_SESSION_SECRET": "bench-" + os.urandom(8).hex(),
    }
    log = (data / "hub.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "carehub", "serve"], env=env, stdout=log, stderr=log, cwd=data
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            url = f"http://127.0.0.1:{http_port}/healthz"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the hub did not start; see {data / 'hub.log'}")
            time.sleep(0.2)
        yield proc, mqtt_port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _client(port: int, client_id: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port, keepalive=60)
    client.loop_start()
    return client


def _flood(port: int, seconds: float, topic_of: Any, payload: bytes) -> int:
    """Publish QoS 0 for ``seconds`` as fast as the socket takes it; messages sent."""
    client = _client(port, f"bench-flood-{os.getpid()}")
    sent, end = 0, time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            info = client.publish(topic_of(sent), payload, qos=0)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                time.sleep(0.001)
                continue
            sent += 1
            if sent % 50 == 0:
                time.sleep(0)  # let paho's thread write
    finally:
        client.disconnect()
        client.loop_stop()
    return sent


def _big(port: int, megabytes: int) -> int:
    client = _client(port, f"bench-big-{os.getpid()}")
    try:
        info = client.publish("carehub/v1/devices/w-1/telemetry", b"x" * (megabytes << 20), qos=1)
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout=60)
    finally:
        client.disconnect()
        client.loop_stop()
    return 1


def _stored(db: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows, payload = conn.execute(
            "SELECT count(*), coalesce(sum(length(payload)), 0) FROM dead_letters"
        ).fetchone()
        unclaimed = conn.execute("SELECT count(*) FROM unprovisioned").fetchone()[0]
    files = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {"dead_letters": rows, "payload_bytes": payload, "unclaimed": unclaimed, "db": files}


def scenario(name: str, seconds: float, big_mb: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        db = data / "carehub.sqlite3"
        store = open_store(f"sqlite:///{db}")
        store.migrate()
        provision_device(store, Device("w-1", "wearable"))
        provision_device(store, Device("gw-1", "gateway"))
        store.close()
        with hub_process(data) as (proc, port):
            before = _rss_kb(proc.pid)[0]
            if name == "big":
                sent = _big(port, big_mb)
            elif name == "flood":
                sent = _flood(
                    port, seconds, lambda _i: "carehub/v1/devices/w-1/telemetry", b"x" * 60_000
                )
            else:
                sent = _flood(
                    port,
                    seconds,
                    lambda i: f"carehub/v1/gateways/gw-1/devices/u-{i}/telemetry",
                    b'{"ts": 1767225600, "seq": 1, "hr": 70}',
                )
            time.sleep(SETTLE_S)
            rss, peak = _rss_kb(proc.pid)
            stored = _stored(db)
    return {"sent": sent, "rss_start_kb": before, "rss_kb": rss, "rss_peak_kb": peak, **stored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--big-mb", type=int, default=100)
    parser.add_argument("--only", choices=["big", "flood", "unknown"], action="append")
    args = parser.parse_args()
    results = {}
    for name in args.only or ["big", "flood", "unknown"]:
        r = results[name] = scenario(name, args.seconds, args.big_mb)
        show(
            f"hostile: {name}",
            [
                ("messages sent", f"{r['sent']:,}"),
                ("dead letters", f"{r['dead_letters']:,}"),
                ("payload bytes stored", f"{r['payload_bytes']:,}"),
                ("database files, bytes", f"{r['db']:,}"),
                ("unclaimed ids listed", f"{r['unclaimed']:,}"),
                ("hub RSS at start / after / peak, MiB",
                 f"{r['rss_start_kb'] / 1024:.0f} / {r['rss_kb'] / 1024:.0f}"
                 f" / {r['rss_peak_kb'] / 1024:.0f}"),
            ],
        )  # fmt: skip
    # one run per case, each a whole scenario: kept apart from results.json's medians
    (HERE / "hostile.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
