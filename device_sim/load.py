"""Load mode: thousands of devices at realistic rates from several processes.

Half the devices are wrist wearables sending vital signs every 30–60 s (as a district's
wearables do), optionally with 5 s acceleration bursts at 50 Hz; the other half are home
sensors (PIR motion) with about 300 events a day, exponentially spaced. ``rate_per_device``
replaces both with a fixed rate, to stress the hub. Each process drives its share of the
devices over a few shared MQTT connections (one socket and thread per simulated device
would not scale to thousands; identity comes from the topic, so this suits an open test
broker, not one with per-device accounts) and reports what it sent through shared
counters, which :func:`run_load` turns into a live table.

``seq`` starts at the wall clock in milliseconds so a repeated run against the same hub is
not taken for duplicates.
"""

from __future__ import annotations

import heapq
import json
import multiprocessing as mp
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.sharedctypes import Synchronized
from typing import Any
from urllib.parse import urlsplit

WEARABLE_INTERVAL_S = (30.0, 60.0)
SENSOR_EVENTS_PER_DAY = 300.0
ROOMS = ("bedroom", "living", "kitchen", "bathroom", "hall")
ACK_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class LoadSpec:
    """What to generate. ``devices`` are split evenly over ``processes``."""

    devices: int
    processes: int = 2
    duration_s: float = 60.0
    rate_per_device: float | None = None
    connections_per_process: int = 4
    qos: int = 1
    id_prefix: str = "load"
    acc_bursts_per_hour: float = 0.0
    seed: int = 1

    def __post_init__(self) -> None:
        if self.devices < 1 or self.processes < 1 or self.connections_per_process < 1:
            raise ValueError("devices, processes and connections must be at least 1")
        if self.duration_s <= 0:
            raise ValueError("duration must be positive")
        if self.rate_per_device is not None and self.rate_per_device <= 0:
            raise ValueError("rate per device must be positive")
        if self.qos not in (0, 1):
            raise ValueError("qos is 0 or 1")

    def device_ids(self) -> list[tuple[str, str]]:
        """``(device_id, kind)``: even indices wearables, odd ones motion sensors."""
        return [
            (f"{self.id_prefix}-w-{i:06d}", "wearable")
            if i % 2 == 0
            else (f"{self.id_prefix}-m-{i:06d}", "motion")
            for i in range(self.devices)
        ]


@dataclass(slots=True)
class LoadResult:
    """Totals of a run (``sent`` counts publishes handed to paho; ``acked`` QoS 1 ones the
    broker confirmed)."""

    sent: int = 0
    acked: int = 0
    errors: int = 0
    duration_s: float = 0.0
    per_process: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.duration_s if self.duration_s > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "rate_per_s": round(self.rate, 1)}


def provision_load(store: Any, spec: LoadSpec) -> int:
    """Register the devices that are missing (no MQTT password: a load broker is open);
    return how many were added."""
    from hub.store.base import Device

    have = {d.id for d in store.list_devices()}
    added = 0
    now = time.time()
    for device_id, kind in spec.device_ids():
        if device_id not in have:
            interval = WEARABLE_INTERVAL_S[1] if kind == "wearable" else None
            store.add_device(Device(device_id, kind, vendor="SimCare", model="LOAD-1",
                                    interval_s=interval, created_at=now))  # fmt: skip
            added += 1
    return added


class _Device:
    __slots__ = ("id", "kind", "seq", "topic_event", "topic_telemetry")

    def __init__(self, device_id: str, kind: str, seq0: int) -> None:
        self.id, self.kind, self.seq = device_id, kind, seq0
        base = f"carehub/v1/devices/{device_id}"
        self.topic_telemetry, self.topic_event = f"{base}/telemetry", f"{base}/event"

    def next_message(self, rng: random.Random, now: float, acc_p: float) -> tuple[str, bytes]:
        self.seq += 1
        body: dict[str, Any] = {"ts": round(now, 3), "seq": self.seq}
        if self.kind == "motion":
            body |= {"type": "motion", "active": True, "room": rng.choice(ROOMS)}
            return self.topic_event, json.dumps(body, separators=(",", ":")).encode()
        temp = round(rng.uniform(36.1, 37.1), 1)
        body |= {"hr": rng.randint(58, 92), "spo2": rng.randint(94, 99), "temp": temp,
                 "battery": rng.randint(20, 100)}  # fmt: skip
        if acc_p and rng.random() < acc_p:
            g = [[round(rng.gauss(0, 0.05), 3), round(rng.gauss(0, 0.05), 3),
                  round(1 + rng.gauss(0, 0.05), 3)] for _ in range(250)]  # fmt: skip
            body["acc"] = {"t0": round(now - 5, 3), "hz": 50, "g": g}
        return self.topic_telemetry, json.dumps(body, separators=(",", ":")).encode()


def _interval(spec: LoadSpec, kind: str, rng: random.Random) -> float:
    if spec.rate_per_device is not None:
        return 1.0 / spec.rate_per_device
    if kind == "wearable":
        return rng.uniform(*WEARABLE_INTERVAL_S)
    return rng.expovariate(SENSOR_EVENTS_PER_DAY / 86_400.0)


def _clients(url: str, n: int, tag: str) -> tuple[list[Any], list[int]]:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    parts = urlsplit(url)
    acked = [0]
    clients = []
    for k in range(n):
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"{tag}-{k}-{time.time_ns()}",
                        protocol=paho.MQTTv311)  # fmt: skip
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        if parts.username:
            c.username_pw_set(parts.username, parts.password)

        def on_publish(*_a: Any) -> None:
            acked[0] += 1  # one int bump under the GIL: good enough for a counter

        c.on_publish = on_publish
        c.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=60)
        c.loop_start()
        clients.append(c)
    return clients, acked


def worker(index: int, spec: LoadSpec, devices: Sequence[tuple[str, str]], url: str,
           start_at: float, sent: Synchronized[int], acked: Synchronized[int],
           errors: Synchronized[int], stop: Any) -> None:  # fmt: skip
    """One load process: publish for ``devices`` from ``start_at`` for ``spec.duration_s``."""
    rng = random.Random(spec.seed * 1_000 + index)  # noqa: S311 - simulation, not secrets
    clients, acks = _clients(url, spec.connections_per_process, f"load-{index}")
    seq0 = int(time.time() * 1000)
    acc_p = 0.0
    if spec.acc_bursts_per_hour:
        acc_p = spec.acc_bursts_per_hour * sum(WEARABLE_INTERVAL_S) / 2 / 3600
    devs = [_Device(d, k, seq0) for d, k in devices]
    heap = [(start_at + rng.uniform(0, _interval(spec, d.kind, rng)), i)
            for i, d in enumerate(devs)]  # fmt: skip
    heapq.heapify(heap)
    end = start_at + spec.duration_s
    n = bad = 0
    last_flush = time.monotonic()
    while heap and not stop.is_set():
        due, i = heap[0]
        if due >= end:
            break
        now = time.time()
        if due > now:
            time.sleep(min(due - now, 0.05))
        else:
            heapq.heapreplace(heap, (due + _interval(spec, devs[i].kind, rng), i))
            topic, payload = devs[i].next_message(rng, now, acc_p)
            info = clients[i % len(clients)].publish(topic, payload, qos=spec.qos)
            if info.rc == 0:
                n += 1
            else:
                bad += 1
        if time.monotonic() - last_flush > 0.2:
            sent.value, errors.value, acked.value = n, bad, acks[0]
            last_flush = time.monotonic()
    deadline = time.monotonic() + ACK_WAIT_S
    while spec.qos and acks[0] < n and time.monotonic() < deadline:
        time.sleep(0.05)
    sent.value, errors.value, acked.value = n, bad, acks[0] if spec.qos else n
    for c in clients:
        c.disconnect()
        c.loop_stop()


def run_load(spec: LoadSpec, url: str, *, report: Callable[[list[int], float], None] | None = None,
             stop: threading.Event | None = None) -> LoadResult:  # fmt: skip
    """Start ``spec.processes`` workers, call ``report(sent_per_process, elapsed_s)`` about
    every second, and return the totals once every worker has finished."""
    ctx = mp.get_context("spawn")  # fresh interpreters: no inherited threads or sockets
    ids = spec.device_ids()
    shares = [ids[p :: spec.processes] for p in range(spec.processes)]
    sent = [ctx.Value("q", 0) for _ in shares]
    acked = [ctx.Value("q", 0) for _ in shares]
    errors = [ctx.Value("q", 0) for _ in shares]
    halt = ctx.Event()
    start_at = time.time() + 2.0 + 0.5 * spec.processes  # time to start and connect
    procs = [
        ctx.Process(
            target=worker,
            args=(p, spec, share, url, start_at, sent[p], acked[p], errors[p], halt),
            daemon=True,
        )
        for p, share in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    try:
        while any(p.is_alive() for p in procs):
            if stop is not None and stop.is_set():
                halt.set()
            if report is not None:
                report([int(s.value) for s in sent], max(0.0, time.time() - start_at))
            for p in procs:
                p.join(timeout=1.0 / len(procs))
    finally:
        halt.set()
        for p in procs:
            p.join(timeout=ACK_WAIT_S + 5)
    elapsed = min(spec.duration_s, max(0.0, time.time() - start_at))
    result = LoadResult(
        sent=sum(int(s.value) for s in sent),
        acked=sum(int(a.value) for a in acked),
        errors=sum(int(e.value) for e in errors),
        duration_s=round(elapsed, 2),
        per_process=[int(s.value) for s in sent],
    )
    failed = [p.exitcode for p in procs if p.exitcode]
    if failed:
        raise ConnectionError(f"{len(failed)} load processes failed (exit codes {failed})")
    return result
