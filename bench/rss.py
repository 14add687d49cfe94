"""Hub memory: resident memory of ``carehub serve`` with 10,000 registered devices of which
2,000 are active.

``hub_rss_mb_10k_devices``: the hub runs in its own process (a throwaway Mosquitto, a
throwaway PostgreSQL database) with 10,000 devices registered — 5,000 residents in ten
stations, each with a wearable and a motion sensor — while ``carehub sim load`` publishes
for 2,000 of them (1,000 wearables and 1,000 motion sensors) at ``--rate`` messages/s each
for ``--seconds``, the wearables with acceleration bursts as well, so that every active
device has its duplicate window, detector state and registry entry built. The hub's
resident memory is read every second from before the load until after it (psutil); the
peak counts. Goal: ≤ 300 MB (issue 12).

Its peer, ``hub_rss_mb_idle``: the same hub started on an empty database and read the
same way for ``--idle-seconds``: what the process costs before any device.

The run is valid only when the hub accepted every active device's messages and refused or
dropped none (read from its ``/metrics``). Run: ``python -m bench.rss`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.common import Figure, console, mosquitto, pg_database, report
from bench.load import hub_counters, start_hub
from device_sim.load import WEARABLE_INTERVAL_S, LoadSpec
from hub.store import open_store
from hub.store.base import City, Device, District, Resident, Station

STATIONS = 10


def provision(db: str, registered: int) -> None:
    """``registered`` devices, a wearable and a motion sensor per resident, with the ids
    ``carehub sim load`` publishes for (its first N are the active ones)."""
    store = open_store(db)
    try:
        store.add_city(City("sh", "上海"))
        store.add_district(District("pd", "sh", "浦东新区"))
        for s in range(STATIONS):
            store.add_station(Station(f"st-{s}", "pd", f"station {s}"))
        now, devices = time.time(), []
        for i, (device_id, kind) in enumerate(LoadSpec(devices=registered).device_ids()):
            resident = f"r-{i // 2:05d}"
            if i % 2 == 0:
                store.add_resident(Resident(resident, f"st-{i // 2 % STATIONS}", resident))
            interval = WEARABLE_INTERVAL_S[1] if kind == "wearable" else None
            devices.append((Device(device_id, kind, vendor="SimCare", model="LOAD-1",
                                   resident_id=resident, interval_s=interval,
                                   worn_at="wrist" if kind == "wearable" else None,
                                   created_at=now), None))  # fmt: skip
        store.add_devices(devices)
    finally:
        store.close()


class Sampler:
    """Reads a process's resident memory every ``period_s`` in a thread."""

    def __init__(self, pid: int, period_s: float = 1.0) -> None:
        self.proc, self.period_s = psutil.Process(pid), period_s
        self.readings: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.readings.append(self.proc.memory_info().rss / 2**20)
            if self._stop.wait(self.period_s):
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def idle_rss(mqtt_url: str, db: str, seconds: float) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        hub, _ = start_hub(mqtt_url, db, Path(tmp))
        try:
            with Sampler(hub.pid) as sampler:
                time.sleep(seconds)
        finally:
            hub.terminate()
            hub.wait(timeout=30)
    return sampler.readings


def loaded_rss(
    mqtt_url: str, db: str, args: argparse.Namespace
) -> tuple[list[float], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        hub, base = start_hub(mqtt_url, db, Path(tmp))
        try:
            with Sampler(hub.pid) as sampler:
                time.sleep(3.0)  # settled after the start
                cmd = [sys.executable, "-m", "device_sim", "load", "--devices",
                       str(args.active), "--broker", mqtt_url, "--processes", "1",
                       "--duration", f"{args.seconds}s", "--rate-per-device", str(args.rate),
                       "--acc-bursts-per-hour", str(args.acc_bursts_per_hour),
                       "--json"]  # fmt: skip
                done = subprocess.run(cmd, capture_output=True, check=True,
                                      timeout=args.seconds + 120)  # fmt: skip
                sent = json.loads(done.stdout.decode().strip().splitlines()[-1])
                deadline = time.monotonic() + 30  # the hub writes in batches: let it drain
                while time.monotonic() < deadline:
                    counters = hub_counters(base)
                    if counters.get("carehub_messages_accepted", 0) >= sent["acked"]:
                        break
                    time.sleep(0.5)
                time.sleep(3.0)
        finally:
            hub.terminate()
            hub.wait(timeout=30)
    return sampler.readings, {**sent, **counters}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registered", type=int, default=10_000)
    ap.add_argument("--active", type=int, default=2_000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=0.5, help="messages/s per active device")
    ap.add_argument("--acc-bursts-per-hour", type=float, default=60.0)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    args = ap.parse_args()
    with mosquitto() as url, pg_database() as empty, pg_database() as db:
        console.print("hub on an empty database ...")
        idle = idle_rss(url, empty, args.idle_seconds)
        console.print(f"registering {args.registered:,} devices ...")
        provision(db, args.registered)
        console.print(f"hub with {args.active:,} of them active for {args.seconds:g} s ...")
        loaded, counts = loaded_rss(url, db, args)
    accepted = counts.get("carehub_messages_accepted", 0)
    bad = counts.get("carehub_messages_refused", 0) + counts.get("carehub_mqtt_queue_dropped", 0)
    if accepted < counts["acked"] or bad or counts.get("errors"):
        raise SystemExit(f"run invalid: {counts}")
    raise SystemExit(report("hub resident memory (PostgreSQL, Mosquitto)", [
        Figure("hub_rss_mb_10k_devices", max(loaded), len(loaded)),
        Figure("hub_rss_mb_idle", max(idle), len(idle)),
    ], [
        ("registered / active devices", f"{args.registered:,} / {args.active:,}"),
        ("messages published (acknowledged)", f"{counts['sent']:,} ({counts['acked']:,}), "
         f"{counts['rate_per_s']:.0f} msg/s"),
        ("accepted by the hub, refused or dropped", f"{accepted:,.0f}, {bad:,.0f}"),
        ("RSS with the devices: first reading, median, peak",
         f"{loaded[0]:.0f}, {sorted(loaded)[len(loaded) // 2]:.0f}, {max(loaded):.0f} MB"),
        ("RSS on an empty database: peak", f"{max(idle):.0f} MB"),
    ]))  # fmt: skip


if __name__ == "__main__":
    main()
