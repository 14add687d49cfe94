"""Ingest throughput: the whole hub pipeline against a bare paho subscriber, and COPY
against executemany.

1. ``ingest_vs_paho``: messages per second through the whole ingest (MQTT adapter,
   validation, duplicate filter, batched writes to PostgreSQL, acknowledgement after the
   commit) divided by the rate of a bare paho subscriber that only counts the same
   messages from the same Mosquitto over the same protocol (MQTT 5). Detection and
   alerting are left out (``bench/detect.py`` and ``bench/alerts.py`` measure them). The
   bare subscriber is paho as it comes (its network thread, ``on_message``); the hub's
   adapter reads paho's socket from the event loop and decodes plain PUBLISH packets
   itself (``hub/mqtt/adapter.py``), which is part of what is measured. Goal: ≥ 0.6.
2. ``publisher_msgs_per_s``: the publisher's own ceiling, the same messages published
   with nobody subscribed. Both rates above are bounded by it: when the bare subscriber
   reaches it, the subscriber is waiting for the publisher, not working at its limit, and
   the ratio flatters the hub (printed beside the ratio as "paho ÷ publisher").
   The publisher runs in its own process (QoS 1, as the contract asks of telemetry);
   runs alternate (paho, hub, publisher alone, paho, ...), ``--rounds`` of each (at least
   5), and the medians are compared.
3. ``copy_vs_executemany``: time to insert the same telemetry rows with ``executemany``
   divided by the time through the store's COPY path (``write_batch``); both get the rows
   in the store's key order and convert them inside the timing; 5 alternating runs,
   medians. Goal: ≥ 5.

Run: ``make bench`` (or ``.venv/bin/python -m bench.ingest``). Results are merged into
``bench/results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions
from psycopg.types.json import Json

from bench.common import Figure, median, mosquitto, pg_database, report
from carehub.serve import Hub, tune_gc
from hub.contract.topics import subscriptions
from hub.ingest.core import Accepted
from hub.settings import HubSettings
from hub.store.base import VITAL_FIELDS, Device, IngestBatch, TelemetryRow
from hub.store.postgres import (
    TELEMETRY_COLS,
    PostgresStore,
    configure_json,
    in_key_order,
    to_dt,
)

COPY_RUNS = 5


def _publish(url: str, devices: int, per_device: int, start_seq: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.publisher", url, "--devices", str(devices),
         "--per-device", str(per_device), "--start-seq", str(start_seq)],
        stdout=subprocess.PIPE,
    )  # fmt: skip


def _published(pub: subprocess.Popen[bytes]) -> float:
    """The publisher's own rate (it prints ``{"sent", "rate_per_s"}`` when done)."""
    out, _ = pub.communicate(timeout=300)
    if pub.returncode:
        raise SystemExit(f"the publisher exited with {pub.returncode}")
    return float(json.loads(out.decode().strip().splitlines()[-1])["rate_per_s"])


def publisher_ceiling(url: str, devices: int, per_device: int, start_seq: int) -> float:
    """Messages/s the publisher reaches with nobody subscribed."""
    return _published(_publish(url, devices, per_device, start_seq))


def bare_paho_rate(url: str, devices: int, per_device: int, start_seq: int) -> float:
    """Messages/s a paho subscriber receives when it does nothing but count."""
    n = devices * per_device
    done = threading.Event()
    subscribed = threading.Event()
    state = {"count": 0, "first": 0.0, "last": 0.0}

    def on_message(_c: Any, _u: Any, _m: paho.MQTTMessage) -> None:
        if state["count"] == 0:
            state["first"] = time.perf_counter()
        state["count"] += 1
        if state["count"] == n:
            state["last"] = time.perf_counter()
            done.set()

    parts = urlsplit(url)
    # Same protocol as the hub speaks to Mosquitto (MQTT 5), so the ratio measures the hub's
    # own work, not the cost of MQTT 5 properties that both pay.
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"bench-paho-{time.time_ns()}",
        protocol=paho.MQTTv5,
    )
    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.set()
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.subscribe([(topic, SubscribeOptions(qos=qos)) for topic, qos in subscriptions()])
    client.loop_start()
    subscribed.wait(10)
    pub = _publish(url, devices, per_device, start_seq)
    if not done.wait(300):
        raise SystemExit(f"bare paho received only {state['count']} of {n}")
    _published(pub)
    client.disconnect()
    client.loop_stop()
    return n / (state["last"] - state["first"])


async def hub_rate(
    store: PostgresStore, url: str, devices: int, per_device: int, start_seq: int
) -> float:
    """Messages/s through the whole hub: from the first message received to the last
    batch committed."""
    n = devices * per_device
    settings = HubSettings(queue_size=100_000)
    # detection and alerting have their own benchmarks (bench/detect.py, bench/alerts.py)
    client_id = f"bench-hub-{time.time_ns()}"
    hub = Hub(store, f"{url}?client_id={client_id}", settings=settings, detect=False)
    done = asyncio.Event()
    state = {"count": 0, "last": 0.0, "first": float("inf")}

    def observer(batch: Any) -> None:
        items: list[Accepted] = list(batch)
        state["count"] += len(items)
        state["first"] = min(state["first"], *(a.received_at for a in items))
        if state["count"] >= n:
            state["last"] = time.time()
            done.set()

    hub.pipeline.observers.append(observer)
    await hub.start()
    pub = await asyncio.to_thread(_publish, url, devices, per_device, start_seq)
    try:
        await asyncio.wait_for(done.wait(), 300)
    except TimeoutError:
        raise SystemExit(
            f"hub stored only {state['count']} of {n}; {hub.adapter.stats()}"
        ) from None
    finally:
        await asyncio.to_thread(pub.communicate)
        await hub.stop()
    refused = hub.metrics.dead_letters._value.get()
    if refused or hub.adapter.stats().get("dropped"):
        raise SystemExit(f"benchmark invalid: {refused} refused, {hub.adapter.stats()}")
    return n / (state["last"] - state["first"])


def _rows(n: int, devices: int = 1000) -> list[TelemetryRow]:
    now = time.time()
    values = {"hr": 72.0, "spo2": 97.0, "rr": 16.0, "temp": 36.6, "battery": 80.0}
    quality = {"hr": 0.95, "spo2": 0.9, "motion": False, "worn": True}
    return [
        TelemetryRow(f"bench-{i % devices:05d}", i // devices, now + i // devices, now, values,
                     quality)
        for i in range(n)
    ]  # fmt: skip


def copy_vs_executemany(store: PostgresStore, url: str, n: int) -> tuple[float, float, float]:
    """Seconds for COPY (the store's path) and executemany of the same rows; their ratio."""
    rows = _rows(n)
    placeholders = ", ".join(["%s"] * len(TELEMETRY_COLS))
    insert = f"INSERT INTO telemetry ({', '.join(TELEMETRY_COLS)}) VALUES ({placeholders})"

    def as_params(t: TelemetryRow) -> tuple[Any, ...]:
        vitals = (t.values.get(f) for f in VITAL_FIELDS)
        docs = (None if v is None else Json(v) for v in (t.quality, t.acc, t.ext))
        return (t.device_id, t.seq, to_dt(t.ts), to_dt(t.received_at), *vitals, *docs)

    copy_times, many_times = [], []
    with psycopg.connect(url, autocommit=True) as conn:
        configure_json(conn)  # the same JSON encoder on both sides: only the method differs
        for _ in range(COPY_RUNS):  # alternating, medians: the machine is shared and noisy
            conn.execute("TRUNCATE telemetry")
            t0 = time.perf_counter()
            store.write_batch(IngestBatch(telemetry=rows))
            copy_times.append(time.perf_counter() - t0)
            conn.execute("TRUNCATE telemetry")
            # both sides convert (and order, as the store does) the same rows inside the timing
            t0 = time.perf_counter()
            params = [as_params(t) for t in in_key_order(rows)]
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(insert, params)
            many_times.append(time.perf_counter() - t0)
        conn.execute("TRUNCATE telemetry")
    c, m = median(copy_times), median(many_times)
    return c, m, m / c


def bound_note(paho: float, ceiling: float) -> list[tuple[str, str]]:
    """A warning when the bare subscriber reaches 90 % of what the publisher can send: it
    is then waiting for the publisher, and the ratio against it flatters the hub."""
    if paho < 0.9 * ceiling:
        return []
    return [("note", "the bare subscriber is bound by the publisher: ingest_vs_paho is an "
             "upper bound")]  # fmt: skip


async def main_async(args: argparse.Namespace) -> int:
    tune_gc()  # as `carehub serve` does
    d, k = args.devices, args.per_device
    with mosquitto() as url, pg_database() as db_url:
        store = PostgresStore(db_url, max_size=4)
        store.open()
        store.migrate()
        store.add_devices([(Device(f"bench-{i:05d}", "wearable", created_at=time.time()), None)
                           for i in range(d)])  # fmt: skip
        paho_rates, hub_rates, pub_rates = [], [], []
        seq = 0
        for _ in range(args.rounds):
            paho_rates.append(await asyncio.to_thread(bare_paho_rate, url, d, k, seq))
            hub_rates.append(await hub_rate(store, url, d, k, seq + k))
            pub_rates.append(await asyncio.to_thread(publisher_ceiling, url, d, k, seq + 2 * k))
            seq += 3 * k
        paho, hub, ceiling = median(paho_rates), median(hub_rates), median(pub_rates)
        copy_s, many_s, copy_ratio = copy_vs_executemany(store, db_url, args.copy_rows)
        store.close()
    r = args.rounds
    return report(
        "ingest (PostgreSQL, Mosquitto)",
        [
            Figure("ingest_vs_paho", hub / paho, r),
            Figure("ingest_msgs_per_s", hub, r),
            Figure("paho_msgs_per_s", paho, r),
            Figure("publisher_msgs_per_s", ceiling, r),
            Figure("copy_vs_executemany", copy_ratio, COPY_RUNS),
        ],
        [
            ("messages per run", f"{d * k:,} from {d:,} devices, QoS 1"),
            ("publisher alone (its ceiling)", f"{ceiling:,.0f} msg/s"),
            ("bare paho subscriber", f"{paho:,.0f} msg/s ({paho / ceiling:.0%} of the ceiling)"),
            ("whole hub ingest", f"{hub:,.0f} msg/s ({hub / ceiling:.0%} of the ceiling)"),
            ("runs", f"{r} of each, alternating; medians"),
            *bound_note(paho, ceiling),
            (f"COPY {args.copy_rows:,} rows", f"{copy_s:.2f} s"),
            (f"executemany {args.copy_rows:,} rows", f"{many_s:.2f} s"),
        ],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--per-device", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--copy-rows", type=int, default=100_000)
    raise SystemExit(asyncio.run(main_async(ap.parse_args())))


if __name__ == "__main__":
    main()
