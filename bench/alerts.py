"""Alert engine throughput and notification latency, on PostgreSQL, each beside a peer.

- ``alerts_per_s``: findings through :meth:`alerts.engine.AlertEngine.on_finding` per
  second over a PostgreSQL store (a mix: new alerts, repeats, clears), each step one
  transaction, as in production; the median of ``--runs`` runs of ``--findings``.
  Its peer, ``alerts_commit_per_s``: the same number of findings each written by one bare
  committed INSERT on the same database (the least a durable engine must do per finding),
  alternating with the engine's runs; ``alerts_vs_commit`` is their ratio.
- ``notify_p50_ms`` / ``notify_p99_ms``: bursts of 100 high-priority alerts opened at once
  (``--bursts``, 10 by default, after one not counted: 1,000 samples behind the p99); the
  time from opening to the signed webhook arriving at a local HTTP server, through the
  real runner (outbox, worker threads, httpx, 32 sends at a time). Its peer,
  ``notify_bare_p99_ms``: the same number of bodies posted to the same server by a bare
  httpx client, 32 at a time, timed from the start of the burst.
- ``--sqlite`` adds the engine's rate over SQLite (the default back-end) as a side note.

No issue set goals for these: they are references. Run: ``python -m bench.alerts``
(about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.types.json import Json

from alerts.directory import StoreDirectory
from alerts.engine import AlertEngine
from alerts.escalation import default_policy
from alerts.notify import Dispatcher
from alerts.notify.apprise_sender import AppriseSender
from alerts.notify.webhook import WebhookSender
from alerts.plan import AlertEvent
from alerts.runner import AlertRunner
from bench.common import Figure, alternate, median, percentile, pg_database, report
from hub.broker.embedded import free_port
from hub.store import open_store
from hub.store.base import City, Device, District, FindingRow, Resident, Station, Store

BURST = 100
CONCURRENCY = 32
KINDS = [("vitals", "medium"), ("vitals", "high"), ("vitals_recovered", "low"),
         ("inactivity", "medium"), ("low_battery", "low")]  # fmt: skip


def seed(store: Store, residents: int, hook: str | None = None) -> Store:
    """A station with ``residents`` residents, a wearable each, and its escalation policy."""
    store.add_city(City("sh", "上海"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "pd", "潍坊社区养老服务站"))
    for i in range(residents):
        store.add_resident(Resident(f"r-{i}", "st-1", f"resident {i}"))
    store.add_devices([(Device(f"w-{i}", "wearable", resident_id=f"r-{i}", created_at=1.0), None)
                       for i in range(residents)])  # fmt: skip
    roles: dict[str, tuple[str, ...]] = {"station": (hook,) if hook else (), "supervisor": (),
                                         "district": ()}  # fmt: skip
    store.set_escalation_policy("st-1", default_policy("st-1", roles).model_dump(), 1.0)
    return store


def finding(i: int, kind: str, priority: str, at: float) -> FindingRow:
    return FindingRow(f"r-{i}", f"w-{i}", kind, priority, at, at, {"n": i},
                      {"zh-CN": kind, "en": kind})  # fmt: skip


class EngineRuns:
    """Successive runs of ``n`` findings through one engine; each call returns findings/s."""

    def __init__(self, store: Store, residents: int, n: int) -> None:
        self.engine = AlertEngine(store, StoreDirectory(store))
        self.engine.recover(time.time())
        self.residents, self.n, self.k = residents, n, 0

    def __call__(self) -> float:
        now = time.time()
        start = time.perf_counter()
        for _ in range(self.n):
            kind, prio = KINDS[self.k % len(KINDS)]
            at = now + self.k * 0.001  # each finding is its own event (one opens one alert)
            self.engine.on_finding(finding(self.k % self.residents, kind, prio, at), at)
            self.k += 1
        return self.n / (time.perf_counter() - start)


def bare_commits(url: str, n: int) -> Callable[[], float]:
    """The peer: ``n`` findings, each one INSERT in its own committed transaction."""
    conn = psycopg.connect(url)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_findings (id bigserial PRIMARY KEY, "
        "resident_id text, kind text, at double precision, evidence jsonb)"
    )
    conn.commit()

    def run() -> float:
        start = time.perf_counter()
        for k in range(n):
            kind, _ = KINDS[k % len(KINDS)]
            with conn.transaction():
                conn.execute("INSERT INTO bench_findings (resident_id, kind, at, evidence) "
                             "VALUES (%s, %s, %s, %s)",
                             (f"r-{k}", kind, time.time(), Json({"n": k})))  # fmt: skip
        return n / (time.perf_counter() - start)

    return run


def receiver() -> tuple[ThreadingHTTPServer, dict[str, float]]:
    arrivals: dict[str, float] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrivals[json.loads(body)["alert"]["id"]] = time.perf_counter()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default backlog (5) drops SYNs of a burst

    server = Server(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, arrivals


async def _arrived(arrivals: dict[str, float], ids: list[str], timeout_s: float = 30) -> None:
    deadline = time.perf_counter() + timeout_s
    while any(i not in arrivals for i in ids) and time.perf_counter() < deadline:  # noqa: ASYNC110 - polls a thread
        await asyncio.sleep(0.005)
    missing = [i for i in ids if i not in arrivals]
    if missing:
        raise SystemExit(f"{len(missing)} webhooks never arrived")


async def notify_latency(url: str, bursts: int) -> list[float]:
    """Open ``bursts`` bursts of :data:`BURST` fall alerts (new residents each time), after
    one burst not counted (connections, caches: both sides get one)."""
    server, arrivals = receiver()
    hook = f"hmac://bench-secret@127.0.0.1:{server.server_address[1]}/hook"
    store = seed(open_store(url), BURST * (bursts + 1), hook)
    engine = AlertEngine(store, StoreDirectory(store))
    webhook = WebhookSender()
    runner = AlertRunner(engine, Dispatcher(webhook, AppriseSender()), concurrency=CONCURRENCY)
    await runner.recover()
    loop = asyncio.create_task(runner.run())
    opened: dict[str, float] = {}

    def on_event(e: AlertEvent) -> None:
        if e.action == "opened":
            opened.setdefault(e.alert.id, time.perf_counter())

    engine.add_listener(on_event)
    delays: list[float] = []
    try:
        for b in range(bursts + 1):
            now, before = time.time(), set(opened)
            await runner.on_findings([finding(b * BURST + i, "fall", "high", now)
                                      for i in range(BURST)])  # fmt: skip
            ids = [i for i in opened if i not in before]
            await _arrived(arrivals, ids)
            if b > 0:
                delays += [(arrivals[i] - opened[i]) * 1000 for i in ids]
    finally:
        if runner.failed:
            print(f"note: {runner.failed} attempts failed and were retried")
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
        await webhook.aclose()
        server.shutdown()
        store.close()
    return delays


async def bare_latency(bursts: int) -> list[float]:
    """The peer: the same number of JSON bodies posted by httpx, :data:`CONCURRENCY` at a
    time, timed from the start of each burst to their arrival."""
    server, arrivals = receiver()
    target = f"http://127.0.0.1:{server.server_address[1]}/hook"
    gate = asyncio.Semaphore(CONCURRENCY)
    delays: list[float] = []
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:

        async def post(alert_id: str) -> None:
            async with gate:
                body = {"alert": {"id": alert_id, "kind": "fall", "priority": "high"}}
                (await client.post(target, json=body)).raise_for_status()

        for b in range(bursts + 1):
            ids = [f"bare-{b}-{i}" for i in range(BURST)]
            start = time.perf_counter()
            await asyncio.gather(*(post(i) for i in ids))
            await _arrived(arrivals, ids)
            if b > 0:
                delays += [(arrivals[i] - start) * 1000 for i in ids]
    server.shutdown()
    return delays


def sqlite_rate(residents: int, n: int, runs: int) -> float:
    from hub.store.sqlite import SqliteStore

    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "rate.db")
        store.migrate()
        seed(store, residents)
        engine = EngineRuns(store, residents, n)
        rate = median([engine() for _ in range(runs)])
        store.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=500)
    ap.add_argument("--findings", type=int, default=2000, help="findings per run")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bursts", type=int, default=10, help=f"bursts of {BURST} alerts")
    ap.add_argument("--sqlite", action="store_true", help="also the engine over SQLite")
    args = ap.parse_args()
    with pg_database() as rate_db, pg_database() as notify_db:
        store = seed(open_store(rate_db), args.residents)
        engine = EngineRuns(store, args.residents, args.findings)
        engine()  # warm-up: the first alerts of every resident, caches, plans
        commits = bare_commits(rate_db, args.findings)
        rates, commit_rates = alternate(args.runs, engine, commits)
        store.close()
        lat = asyncio.run(notify_latency(notify_db, args.bursts))
    bare = asyncio.run(bare_latency(args.bursts))
    rate, commit = median(rates), median(commit_rates)
    notes = [
        ("findings through the engine (PostgreSQL)", f"{rate:,.0f} /s, median of {args.runs}"),
        ("one bare committed INSERT per finding", f"{commit:,.0f} /s, median of {args.runs}"),
        (f"open → webhook, bursts of {BURST}", f"p50 {percentile(lat, 50):.0f} ms, "
         f"p99 {percentile(lat, 99):.0f} ms, n={len(lat)}"),
        (f"bare httpx, bursts of {BURST}", f"p50 {percentile(bare, 50):.0f} ms, "
         f"p99 {percentile(bare, 99):.0f} ms, n={len(bare)}"),
    ]  # fmt: skip
    if args.sqlite:
        lite = sqlite_rate(args.residents, args.findings, args.runs)
        notes.append(("findings through the engine (SQLite)", f"{lite:,.0f} /s"))
    raise SystemExit(report("alert engine and notifications", [
        Figure("alerts_per_s", rate, args.runs),
        Figure("alerts_commit_per_s", commit, args.runs),
        Figure("alerts_vs_commit", rate / commit, args.runs),
        Figure("notify_p50_ms", percentile(lat, 50), len(lat)),
        Figure("notify_p99_ms", percentile(lat, 99), len(lat)),
        Figure("notify_bare_p99_ms", percentile(bare, 99), len(bare)),
    ], notes))  # fmt: skip


if __name__ == "__main__":
    main()
