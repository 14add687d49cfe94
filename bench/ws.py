"""WebSocket latency of the dashboard: SOS to a console, and one alert to 1,000 consoles.

The hub runs as ``carehub serve`` in its own process (a throwaway Mosquitto, a throwaway
PostgreSQL database, WebSocket compression off as in production); the WebSocket clients
and the background telemetry publisher run in processes of their own, so they do not take
the server's core. Times are ``time.time()`` in every process (one clock on one machine).

1. ``sos_to_ws``: while 1,000 telemetry messages/s (normal vitals from 1,000 wearables of
   another station) flow in the background, a wearable publishes an SOS (QoS 1, a new
   ``seq`` each round); the time from the publish to the ``alert`` frame reaching a staff
   console's socket, p50 and p99 over 1,000 presses (``--rounds``), 0.1 s apart, after 3
   not counted. The same wearable presses every time: the first press opens the SOS alert
   (latched), the others update it with their tag, each a frame to the console. The SOS
   crosses the whole pipeline: MQTT, validation, the batched store write (flushed at once
   for alarm-class messages), detection, the findings write, the alert engine's
   transaction, the broadcaster.
2. ``fanout_1000``: 1,000 staff consoles connected, no background load; for each of 50
   SOS alerts (``--alerts``), every client's receive time minus the alert's
   ``updated_at`` (the engine's clock when it handled the finding, before its own
   transaction: a conservative start of the fan-out), p50 and p99; plus the server's
   resident memory before and with the clients connected.

3. The reference, side by side: the same client processes against a bare ``websockets``
   broadcaster in its own process (serialise once, ``broadcast()``), same rounds
   (``fanout_1000_bare_p99_ms``).

Every percentile rests on at least 1,000 samples (``bench/goals.py`` refuses fewer): 1,000
SOS presses; 50 alerts × 1,000 clients for the fan-out, so that the p99 is not decided by
one or two slow alerts.

Goals: p99 ≤ 50 ms for both delays (a bare broadcaster on one core reaches about 40 ms for
1,000 clients without compression).

Receive times are taken in ``data_received`` of each client connection, before the frame is
parsed or handed to a coroutine, so a busy client process adds as little as it can. The
clients are spread over two processes (``--client-processes``): in one, the last of 1,000
sockets is read some 40–90 ms after the first whatever the server does (the bare
broadcaster's p99 varied from 33 to 112 ms between runs that way).

Run: ``.venv/bin/python -m bench.ws`` (about 4 minutes). Merges ``sos_to_ws_p50_ms``,
``sos_to_ws_p99_ms``, ``fanout_1000_p50_ms``, ``fanout_1000_p99_ms``,
``fanout_1000_bare_p99_ms`` and ``ws_server_rss_mb_1000`` into ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import queue
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import psutil

from bench.common import Figure, console, mosquitto, pg_database, report
from hub.broker.embedded import free_port
from hub.contract.topics import device_topic

STATION, BG_STATION = "st-ws", "st-bg"
STAFF = "ws.staff"
SOS_DEVICE = "ws-sos-1"
START_TIMEOUT_S = 60.0
_SPAWN = mp.get_context("spawn")  # no fork of a process that runs paho's thread


@dataclass(frozen=True)
class Server:
    """A running ``carehub serve``: its process, base URL and a staff member's token."""

    proc: subprocess.Popen[bytes]
    base: str
    token: str
    log: Path

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://", 1) + "/ws"

    def rss_mb(self) -> float:
        return float(psutil.Process(self.proc.pid).memory_info().rss) / 2**20


def provision(db_url: str, background: int) -> str:
    """A station with the SOS wearable's resident and a staff member (whose API token is
    returned), and ``background`` residents with a wearable each in another station."""
    from dashboard.auth import Authenticator, LoginLimiter, hash_password
    from hub.store import open_store
    from hub.store.base import City, Device, District, Resident, Station, UserRow

    now = time.time()
    store = open_store(db_url)
    try:
        store.add_city(City("sh", "上海市"))
        store.add_district(District("pd", "sh", "浦东新区"))
        store.add_station(Station(STATION, "pd", "花木街道养老服务站"))
        store.add_station(Station(BG_STATION, "pd", "塘桥街道养老服务站"))
        store.add_resident(Resident("ws-r-1", STATION, "王秀英"))
        store.add_device(Device(SOS_DEVICE, "wearable", resident_id="ws-r-1", interval_s=60,
                                created_at=now))  # fmt: skip
        for i in range(background):
            store.add_resident(Resident(f"ws-bg-r-{i}", BG_STATION, f"resident {i}"))
            store.add_device(Device(f"ws-bg-{i:05d}", "wearable", resident_id=f"ws-bg-r-{i}",
                                    interval_s=60, created_at=now))  # fmt: skip
        store.add_user(UserRow(STAFF, "李娜", "station_staff", hash_password("bench-password"),
                               now, STATION))  # fmt: skip
        limiter = LoginLimiter(1, 1, clock=time.time)
        auth = Authenticator(store, secret=b"", session_s=0, limiter=limiter, clock=time.time)
        return auth.new_token(STAFF, "bench")[1]
    finally:
        store.close()


@contextlib.contextmanager
def hub_server(mqtt_url: str, db_url: str, background: int) -> Iterator[Server]:
    """Provision, then run ``carehub serve`` until the block ends."""
    token = provision(db_url, background)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {**os.environ, "CAREHUB_MQTT_URL": f"{mqtt_url}?client_id=bench-ws-{port}",
               "CAREHUB_DATABASE_URL": db_url, "CAREHUB_HTTP_PORT": str(port),
               "CAREHUB_DATA_DIR": tmp}  # fmt: skip
        log = Path(tmp) / "hub.log"
        carehub = Path(sys.executable).with_name("carehub")
        with log.open("wb") as out:
            proc = subprocess.Popen([str(carehub), "serve"], env=env, cwd=tmp, stdout=out,
                                    stderr=subprocess.STDOUT)  # fmt: skip
        server = Server(proc, f"http://127.0.0.1:{port}", token, log)
        try:
            _wait_healthy(server)
            yield server
        except BaseException:
            tail = log.read_text(errors="replace")[-3000:]
            console.print(f"[red]the hub's log ends with:[/red]\n{tail}")
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and server.proc.poll() is None:
        with (
            contextlib.suppress(OSError, ValueError),
            urllib.request.urlopen(f"{server.base}/healthz", timeout=2) as resp,
        ):
            if json.loads(resp.read()).get("ok"):
                return
        time.sleep(0.3)
    raise SystemExit(f"the hub did not become healthy within {START_TIMEOUT_S:g} s")


def hub_metrics(server: Server) -> dict[str, float]:
    """Totals of a few counters and histograms from the hub's ``/metrics``."""
    names = ("carehub_messages_accepted_total", "carehub_messages_refused_total",
             "carehub_batch_write_seconds_sum", "carehub_batch_write_seconds_count",
             "carehub_batch_rows_sum")  # fmt: skip
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    totals = dict.fromkeys(names, 0.0)
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in totals:
            totals[name] += float(line.rsplit(" ", 1)[1])
    return totals


# --- background telemetry (its own process) -------------------------------------------------


def telemetry(mqtt_url: str, devices: int, rate: float, stop: MpEvent) -> None:
    """Publish normal vitals round-robin over ``devices`` wearables at ``rate`` msg/s until
    ``stop`` is set (QoS 0, paced every 10 ms)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    parts = urlsplit(mqtt_url)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-ws-bg-{time.time_ns()}")
    client.max_queued_messages_set(0)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    topics = [device_topic(f"ws-bg-{d:05d}", "telemetry") for d in range(devices)]
    seqs = [0] * devices
    sent, start, i = 0, time.monotonic(), 0
    while not stop.is_set():
        due = int((time.monotonic() - start) * rate)
        for _ in range(due - sent):
            d = i % devices
            i += 1
            seqs[d] += 1
            body = {"ts": round(time.time(), 3), "seq": seqs[d], "hr": float(60 + d % 20),
                    "spo2": float(96 + d % 4), "rr": float(12 + d % 6),
                    "temp": 36.5 + (d % 5) / 10, "battery": 80.0}  # fmt: skip
            client.publish(topics[d], json.dumps(body), qos=0)
        sent = due
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()


# --- WebSocket clients (their own process) ---------------------------------------------------


def clients(ws_url: str, token: str, n: int, commands: Any, replies: Any) -> None:
    """Hold ``n`` connections; answer ``("collect", tag, timeout_s)`` with
    ``("got", tag, [(received_at, updated_at), ...])`` — one pair per connection that got
    the alert frame whose evidence ``room`` is ``tag`` — and stop on ``("stop",)``."""
    import asyncio
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:  # one socket per connection, plus the interpreter's own files
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1000), hard))
    try:
        asyncio.run(_clients(ws_url, token, n, commands, replies))
    except Exception as exc:  # told to the parent, which stops the run with the reason
        replies.put(("failed", f"{type(exc).__name__}: {exc}"))


async def _clients(ws_url: str, token: str, n: int, commands: Any, replies: Any) -> None:
    import asyncio

    from websockets.asyncio.client import ClientConnection, connect
    from websockets.frames import Frame, Opcode

    class Stamped(ClientConnection):
        """Keeps the arrival time of every ``alert`` frame, taken when its bytes arrive."""

        rx_at = 0.0
        alerts: list[tuple[float, bytes]]

        def data_received(self, data: bytes) -> None:
            self.rx_at = time.time()
            super().data_received(data)

        def process_event(self, event: Any) -> None:
            if (
                self.response is not None
                and isinstance(event, Frame)
                and event.opcode is Opcode.TEXT
                and b'"type":"alert"' in event.data[:32]
            ):
                self.alerts.append((self.rx_at, bytes(event.data)))
            super().process_event(event)

    headers = {"Authorization": f"Bearer {token}"}
    gate = asyncio.Semaphore(50)  # each connection costs the server a snapshot query

    async def open_one() -> Stamped:
        async with gate:
            conn = await connect(ws_url, additional_headers=headers, compression=None,
                                 max_size=None, ping_interval=None, open_timeout=60,
                                 create_connection=Stamped)  # fmt: skip
            assert isinstance(conn, Stamped)
            conn.alerts = []
            await conn.recv()  # the snapshot
            return conn

    async def drain(conn: Stamped) -> None:
        with contextlib.suppress(Exception):
            async for _ in conn:
                pass

    conns = await asyncio.gather(*(open_one() for _ in range(n)))
    drains = [asyncio.create_task(drain(c)) for c in conns]
    replies.put(("ready", len(conns)))
    while True:
        cmd = await asyncio.to_thread(commands.get)
        if cmd[0] == "stop":
            break
        _, tag, timeout_s = cmd
        deadline = time.monotonic() + timeout_s
        got: dict[int, tuple[float, float]] = {}
        while len(got) < len(conns) and time.monotonic() < deadline:
            for k, c in enumerate(conns):
                if k not in got and (hit := _find(c.alerts, tag)) is not None:
                    got[k] = hit
            await asyncio.sleep(0.005)
        replies.put(("got", tag, list(got.values())))
    await asyncio.gather(*(asyncio.wait_for(c.close(), 5) for c in conns), return_exceptions=True)
    for task in drains:
        task.cancel()


def _find(frames: list[tuple[float, bytes]], tag: str) -> tuple[float, float] | None:
    """(received_at, alert.updated_at) of the first alert frame tagged ``tag``."""
    needle = f'"room":"{tag}"'.encode()
    for at, raw in frames:
        if needle in raw:
            alert = json.loads(raw)["alert"]
            if alert.get("evidence", {}).get("room") == tag:
                return at, float(alert["updated_at"])
    return None


class ClientPool:
    """Client processes holding ``n`` connections between them."""

    def __init__(self, ws_url: str, token: str, n: int, processes: int = 1) -> None:
        sizes = [n // processes + (1 if k < n % processes else 0) for k in range(processes)]
        self.replies = _SPAWN.Queue()
        self.commands = [_SPAWN.Queue() for _ in sizes]
        self.procs = [
            _SPAWN.Process(target=clients, args=(ws_url, token, size, q, self.replies),
                           daemon=True)
            for size, q in zip(sizes, self.commands, strict=True)
        ]  # fmt: skip
        for p in self.procs:
            p.start()
        connected = sum(self._reply("ready", 120)[1] for _ in self.procs)
        if connected != n:
            raise SystemExit(f"only {connected} of {n} WebSocket clients connected")

    def _reply(self, kind: str, timeout_s: float) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                reply: tuple[Any, ...] = self.replies.get(timeout=0.5)
                break
            except queue.Empty:
                dead = [p.exitcode for p in self.procs if not p.is_alive()]
                if dead or time.monotonic() > deadline:
                    self.close()
                    raise SystemExit(f"client processes: no {kind!r} answer (exit codes "
                                     f"{dead})") from None  # fmt: skip
        if reply[0] != kind:
            self.close()
            raise SystemExit(f"a client process answered {reply!r}, expected {kind!r}")
        return reply

    def collect(self, tag: str, timeout_s: float = 10.0) -> list[tuple[float, float]]:
        for q in self.commands:
            q.put(("collect", tag, timeout_s))
        out: list[tuple[float, float]] = []
        for _ in self.procs:
            out += self._reply("got", timeout_s + 30)[2]
        return out

    def close(self) -> None:
        for q in self.commands:
            q.put(("stop",))
        for p in self.procs:
            p.join(15)
            if p.is_alive():
                p.kill()


# --- the reference: a bare broadcaster (its own process) -------------------------------------


def bare_broadcaster(port: int, commands: Any, replies: Any) -> None:
    """A websockets server that only broadcasts: ``("send", tag)`` sends every client one
    alert-shaped frame (serialised once, ``websockets.broadcast``); ``("stop",)`` ends it."""
    import asyncio

    from websockets.asyncio.server import broadcast, serve

    async def run() -> None:
        async def handler(conn: Any) -> None:
            await conn.send(json.dumps({"type": "snapshot"}))
            await conn.wait_closed()

        async with serve(handler, "127.0.0.1", port, compression=None, ping_interval=None,
                         backlog=2048) as server:  # fmt: skip
            replies.put(("ready", port))
            while (cmd := await asyncio.to_thread(commands.get))[0] != "stop":
                text = json.dumps({"type": "alert", "id": 1, "action": "updated", "alert": {
                    "evidence": {"room": cmd[1]}, "updated_at": time.time()}},
                    separators=(",", ":"))  # compact, as the dashboard sends  # fmt: skip
                broadcast(server.connections, text)

    asyncio.run(run())


@contextlib.contextmanager
def bare_server() -> Iterator[tuple[str, Any]]:
    """A running :func:`bare_broadcaster`: its ws:// URL and its command queue."""
    commands, replies = _SPAWN.Queue(), _SPAWN.Queue()
    port = free_port()
    proc = _SPAWN.Process(target=bare_broadcaster, args=(port, commands, replies), daemon=True)
    proc.start()
    try:
        replies.get(timeout=30)
        yield f"ws://127.0.0.1:{port}/", commands
    finally:
        commands.put(("stop",))
        proc.join(10)
        if proc.is_alive():
            proc.kill()


# --- the measurements ------------------------------------------------------------------------


class SosButton:
    """The SOS wearable: publishes an SOS tagged with ``room`` (QoS 1), returns when sent."""

    def __init__(self, mqtt_url: str) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urlsplit(mqtt_url)
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"bench-ws-sos-{time.time_ns()}")  # fmt: skip
        self.client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
        self.client.loop_start()
        self.seq = 0

    def press(self, tag: str) -> float:
        at = time.time()
        # strictly increasing for the device across buttons and runs on one database
        self.seq = max(self.seq + 1, time.time_ns() // 1_000_000)
        body = {"type": "sos", "ts": round(at, 3), "seq": self.seq, "press": "single", "room": tag}
        self.client.publish(device_topic(SOS_DEVICE, "event"), json.dumps(body), qos=1)
        return at

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def sos_to_ws(server: Server, mqtt_url: str, *, rounds: int, rate: float, devices: int,
              warmup: int = 3, gap_s: float = 0.5) -> dict[str, Any]:  # fmt: skip
    """SOS publish → ``alert`` frame at one console, with ``rate`` telemetry msg/s behind."""
    stop = _SPAWN.Event()
    bg = _SPAWN.Process(target=telemetry, args=(mqtt_url, devices, rate, stop), daemon=True)
    pool = ClientPool(server.ws_url, server.token, 1)
    button = SosButton(mqtt_url)
    delays: list[float] = []
    try:
        if rate > 0:
            bg.start()
            time.sleep(3.0)  # let the background reach its rate
        cpu = psutil.Process(server.proc.pid)
        cpu.cpu_percent(None)
        before, t_before = hub_metrics(server), time.monotonic()
        for r in range(warmup + rounds):
            tag = f"sos-{r}"
            sent = button.press(tag)
            got = pool.collect(tag)
            if not got:
                raise SystemExit(f"SOS {tag} never reached the console")
            if r >= warmup:
                delays.append((got[0][0] - sent) * 1e3)
            time.sleep(gap_s)
        server_cpu = cpu.cpu_percent(None)
        after, elapsed = hub_metrics(server), time.monotonic() - t_before
    finally:
        stop.set()
        if bg.pid is not None:
            bg.join(10)
        button.close()
        pool.close()
    d = {k: after[k] - before[k] for k in after}
    batches = max(d["carehub_batch_write_seconds_count"], 1.0)
    return {"n": len(delays), "p50_ms": pct(delays, 50), "p99_ms": pct(delays, 99),
            "max_ms": max(delays), "server_cpu_pct": server_cpu,
            "accepted_per_s": d["carehub_messages_accepted_total"] / elapsed,
            "refused": d["carehub_messages_refused_total"],
            "batch_write_ms": d["carehub_batch_write_seconds_sum"] / batches * 1e3,
            "batch_rows": d["carehub_batch_rows_sum"] / batches}  # fmt: skip


def _fan_rounds(pool: ClientPool, n: int, alerts: int, trigger: Any,
                gap_s: float) -> dict[str, Any]:  # fmt: skip
    """``alerts + 1`` rounds of ``trigger(tag) -> sent_at``, the first one as a warm-up;
    delays from the frame's ``updated_at``, from the first client and from ``sent_at``."""
    fan: list[float] = []
    spread: list[float] = []
    e2e: list[float] = []
    for k in range(alerts + 1):
        tag = f"fan-{k}-{time.time_ns()}"
        sent = trigger(tag)
        got = pool.collect(tag, timeout_s=15.0)
        if len(got) != n:
            raise SystemExit(f"alert {tag} reached {len(got)} of {n} clients")
        if k > 0:
            first = min(at for at, _ in got)
            fan += [(at - upd) * 1e3 for at, upd in got]
            spread += [(at - first) * 1e3 for at, _ in got]
            e2e += [(at - sent) * 1e3 for at, _ in got]
        time.sleep(gap_s)
    return {"clients": n, "samples": len(fan), "p50_ms": pct(fan, 50), "p99_ms": pct(fan, 99),
            "spread_p99_ms": pct(spread, 99), "sent_p99_ms": pct(e2e, 99)}  # fmt: skip


def fanout(server: Server, mqtt_url: str, *, n: int, alerts: int, processes: int = 1,
           gap_s: float = 1.0) -> dict[str, Any]:  # fmt: skip
    """One SOS alert to ``n`` consoles, ``alerts`` times; delays and the server's memory."""
    rss_before = server.rss_mb()
    pool = ClientPool(server.ws_url, server.token, n, processes)
    button = SosButton(mqtt_url)
    rss = [server.rss_mb()]

    def press(tag: str) -> float:
        rss.append(server.rss_mb())  # one reading per round: the peak of them is kept
        return button.press(tag)

    try:
        out = _fan_rounds(pool, n, alerts, press, gap_s)
        rss.append(server.rss_mb())
    finally:
        button.close()
        pool.close()
    return {**out, "rss_before_mb": rss_before, "rss_with_mb": max(rss), "rss_readings": len(rss)}


def bare_fanout(*, n: int, alerts: int, processes: int = 1, gap_s: float = 1.0) -> dict[str, Any]:
    """The same clients and rounds against :func:`bare_broadcaster` (the reference)."""
    with bare_server() as (url, commands):
        pool = ClientPool(url, "", n, processes)

        def trigger(tag: str) -> float:
            at = time.time()
            commands.put(("send", tag))
            return at

        try:
            return _fan_rounds(pool, n, alerts, trigger, gap_s)
        finally:
            pool.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1000, help="SOS presses under load")
    ap.add_argument("--gap", type=float, default=0.1, help="seconds between SOS presses")
    ap.add_argument("--rate", type=float, default=1000.0, help="background telemetry msg/s")
    ap.add_argument("--devices", type=int, default=1000, help="background wearables")
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--alerts", type=int, default=50, help="alerts fanned out")
    ap.add_argument("--fan-gap", type=float, default=0.5, help="seconds between alerts")
    ap.add_argument("--client-processes", type=int, default=2,
                    help="processes holding the clients (one Python process reading 1,000 "
                    "sockets measures itself more than the server)")  # fmt: skip
    args = ap.parse_args()
    t0 = time.monotonic()
    n, procs = args.clients, args.client_processes
    with mosquitto() as url, pg_database() as db, hub_server(url, db, args.devices) as server:
        console.print(f"hub up after {time.monotonic() - t0:.0f} s; SOS under load ...")
        sos = sos_to_ws(server, url, rounds=args.rounds, rate=args.rate, devices=args.devices,
                        gap_s=args.gap)  # fmt: skip
        console.print(f"fan-out to {n} clients ...")
        fan = fanout(server, url, n=n, alerts=args.alerts, processes=procs, gap_s=args.fan_gap)
    console.print("the same clients against a bare broadcaster ...")
    bare = bare_fanout(n=n, alerts=args.alerts, processes=procs, gap_s=args.fan_gap)
    notes = [
        (f"SOS → frame, {args.rate:g} msg/s behind", f"p50 {sos['p50_ms']:.1f} ms, p99 "
         f"{sos['p99_ms']:.1f} ms, max {sos['max_ms']:.1f} ms, n={sos['n']}"),
        ("  hub during it", f"{sos['accepted_per_s']:.0f} msg/s accepted, "
         f"{sos['refused']:.0f} refused, CPU {sos['server_cpu_pct']:.0f} % of a core"),
        ("  store batches", f"{sos['batch_rows']:.0f} rows, {sos['batch_write_ms']:.1f} ms "
         "each (mean)"),
        (f"fan-out to {n} clients, {args.alerts} alerts", f"p50 {fan['p50_ms']:.1f} ms, "
         f"p99 {fan['p99_ms']:.1f} ms, n={fan['samples']}"),
        ("  first → last client, p99", f"{fan['spread_p99_ms']:.1f} ms"),
        ("  SOS publish → frame, p99", f"{fan['sent_p99_ms']:.1f} ms"),
        (f"bare broadcaster to {n} clients", f"p50 {bare['p50_ms']:.1f} ms, p99 "
         f"{bare['p99_ms']:.1f} ms, n={bare['samples']}"),
        ("hub RSS", f"{fan['rss_before_mb']:.0f} MB → {fan['rss_with_mb']:.0f} MB with "
         f"{n} clients"),
        ("runtime", f"{time.monotonic() - t0:.0f} s"),
    ]  # fmt: skip
    raise SystemExit(report("dashboard WebSocket (PostgreSQL, Mosquitto)", [
        Figure("sos_to_ws_p50_ms", sos["p50_ms"], sos["n"]),
        Figure("sos_to_ws_p99_ms", sos["p99_ms"], sos["n"]),
        Figure("fanout_1000_p50_ms", fan["p50_ms"], fan["samples"]),
        Figure("fanout_1000_p99_ms", fan["p99_ms"], fan["samples"]),
        Figure("fanout_1000_bare_p99_ms", bare["p99_ms"], bare["samples"]),
        Figure("ws_server_rss_mb_1000", fan["rss_with_mb"], fan["rss_readings"]),
    ], notes))  # fmt: skip


if __name__ == "__main__":
    main()
