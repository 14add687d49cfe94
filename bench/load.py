"""Load mode against a real hub: the largest device count it carries with no message lost.

The hub runs as ``carehub serve`` in its own process (a throwaway Mosquitto, a throwaway
PostgreSQL database); ``carehub sim load`` publishes for N devices at realistic rates
(wearables every 30–60 s, motion sensors ~300 events a day; QoS 1) from several processes
for ``--seconds`` at each level. A level passes when every message the broker
acknowledged is stored (telemetry and event rows) and the hub's ``/metrics`` show nothing
refused or dropped. The hub's CPU (percent of one core) and resident memory are sampled
with psutil during each level.

Results: ``load_max_devices``, ``load_hub_cpu_pct``, ``load_hub_rss_mb`` (at that level) in
``bench/results.json``. Runtime: about (provisioning + levels × (seconds + 15)) seconds,
some 4 minutes with the defaults. Not part of ``make bench``.

Run: ``.venv/bin/python -m bench.load [--levels 1000,5000,...] [--seconds 20]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import psycopg

from bench.common import Figure, console, mosquitto, pg_database, report, show
from device_sim.load import LoadSpec, provision_load
from hub.broker.embedded import free_port
from hub.store import open_store

PROCESSES = 2


def hub_counters(base: str) -> dict[str, float]:
    """Refused, duplicate and dropped counters from the hub's Prometheus text."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    totals: dict[str, float] = {}
    for line in text.splitlines():
        for name in ("carehub_messages_refused", "carehub_duplicates_dropped",
                     "carehub_mqtt_queue_dropped", "carehub_messages_accepted"):  # fmt: skip
            if line.startswith(name + "_total"):
                totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def _stored(db: str) -> int:
    with psycopg.connect(db) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM telemetry) + (SELECT count(*) FROM events)"
        ).fetchone()
    return int(row[0]) if row else 0


def start_hub(mqtt_url: str, db: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``carehub serve`` on ``mqtt_url`` and ``db`` in its own process, once healthy: the
    process and its base URL (the caller terminates it)."""
    port = free_port()
    env = {**os.environ, "CAREHUB_MQTT_URL": f"{mqtt_url}?client_id=bench-hub",
           "CAREHUB_DATABASE_URL": db, "CAREHUB_HTTP_PORT": str(port),
           "CAREHUB_DATA_DIR": str(workdir)}  # fmt: skip
    carehub = Path(sys.executable).with_name("carehub")
    proc = subprocess.Popen([str(carehub), "serve"], env=env, cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                if json.loads(resp.read()).get("ok"):
                    return proc, base
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the hub did not become healthy within 60 s")


def _sample(pid: int, stop: threading.Event, out: dict[str, list[float]]) -> None:
    p = psutil.Process(pid)
    p.cpu_percent(None)
    while not stop.wait(1.0):
        out["cpu"].append(p.cpu_percent(None))
        out["rss"].append(p.memory_info().rss / 2**20)


def run_level(devices: int, seconds: float, mqtt_url: str, db: str, base: str,
              hub_pid: int) -> dict[str, Any]:  # fmt: skip
    before_rows, before = _stored(db), hub_counters(base)
    samples: dict[str, list[float]] = {"cpu": [], "rss": []}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(hub_pid, stop, samples), daemon=True)
    sampler.start()
    cmd = [sys.executable, "-m", "device_sim", "load", "--devices", str(devices),
           "--broker", mqtt_url, "--processes", str(PROCESSES), "--duration", f"{seconds}s",
           "--json"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, check=True, timeout=seconds + 120)
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    # the hub writes in batches: wait until the rows stop growing
    last, settled = -1, time.monotonic()
    while time.monotonic() - settled < 3.0:
        now_rows = _stored(db) - before_rows
        if now_rows != last:
            last, settled = now_rows, time.monotonic()
        if now_rows >= result["acked"]:
            break
        time.sleep(0.5)
    stop.set()
    sampler.join()
    after = hub_counters(base)
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    lost = result["acked"] - last + result["errors"]
    cpu = sorted(samples["cpu"])
    return {
        "devices": devices, "sent": result["sent"], "acked": result["acked"], "stored": last,
        "lost": lost, "rate_per_s": result["rate_per_s"],
        "refused": delta.get("carehub_messages_refused", 0.0),
        "dropped": delta.get("carehub_mqtt_queue_dropped", 0.0),
        "hub_cpu_pct": round(cpu[len(cpu) // 2], 1) if cpu else 0.0,  # median sample
        "hub_rss_mb": round(max(samples["rss"], default=0.0), 1),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="1000,2000,5000,10000,20000,50000")
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    rows: list[dict[str, Any]] = []
    t0 = time.monotonic()
    with mosquitto() as url, pg_database() as db, tempfile.TemporaryDirectory() as tmp:
        store = open_store(db)
        try:
            console.print(f"registering {max(levels)} devices ...")
            provision_load(store, LoadSpec(devices=max(levels)))
        finally:
            store.close()
        hub, base = start_hub(url, db, Path(tmp))
        try:
            for n in levels:
                row = run_level(n, args.seconds, url, db, base, hub.pid)
                console.print(row)
                rows.append(row)
                if row["lost"] or row["refused"] or row["dropped"]:
                    break
        finally:
            hub.terminate()
            hub.wait(timeout=30)
    ok = [r for r in rows if not (r["lost"] or r["refused"] or r["dropped"])]
    best = ok[-1] if ok else None
    show("load mode: hub with no message lost", [
        (f"{r['devices']} devices", f"{r['rate_per_s']:.0f} msg/s, lost {r['lost']}, "
         f"hub CPU {r['hub_cpu_pct']} %, RSS {r['hub_rss_mb']} MB") for r in rows
    ] + [("runtime", f"{time.monotonic() - t0:.0f} s")])  # fmt: skip
    if best is None:
        raise SystemExit("no level passed")
    raise SystemExit(report("load mode: the level recorded", [
        Figure("load_max_devices", best["devices"], 1),
        Figure("load_hub_cpu_pct", best["hub_cpu_pct"], 1),
        Figure("load_hub_rss_mb", best["hub_rss_mb"], 1),
        Figure("load_max_rate_per_s", best["rate_per_s"], 1),
    ]))  # fmt: skip


if __name__ == "__main__":
    main()
