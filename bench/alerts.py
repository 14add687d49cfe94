"""Alert engine throughput and notification latency.

- ``alerts_per_s``: findings through :meth:`alerts.engine.AlertEngine.on_finding` per
  second over a SQLite store (a mix: new alerts, repeats, clears), each step one
  transaction, as in production.
- ``notify_p50_ms`` / ``notify_p99_ms``: 100 high-priority alerts opened at once; time
  from opening to the signed webhook arriving at a local HTTP server, through the real
  runner (outbox, worker threads, httpx).

Run: ``python -m bench.alerts`` (a few seconds). Merges its keys into bench/results.json.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from alerts.directory import StoreDirectory
from alerts.engine import AlertEngine
from alerts.escalation import default_policy
from alerts.notify import Dispatcher
from alerts.notify.apprise_sender import AppriseSender
from alerts.notify.webhook import WebhookSender
from alerts.runner import AlertRunner
from bench.common import record, show
from hub.broker.embedded import free_port
from hub.store.base import City, Device, District, FindingRow, Resident, Station
from hub.store.sqlite import SqliteStore

RESIDENTS = 500
FINDINGS = 5_000
BURST = 100


def seeded_store(path: Path, hook: str | None = None) -> SqliteStore:
    store = SqliteStore(path)
    store.migrate()
    store.add_city(City("sh", "上海"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "pd", "潍坊社区养老服务站"))
    for i in range(RESIDENTS):
        store.add_resident(Resident(f"r-{i}", "st-1", f"resident {i}"))
        store.add_device(Device(f"w-{i}", "wearable", resident_id=f"r-{i}", created_at=1.0))
    roles = {"station": (hook,) if hook else (), "supervisor": (), "district": ()}
    store.set_escalation_policy("st-1", default_policy("st-1", roles).model_dump(), 1.0)
    return store


def finding(i: int, kind: str, priority: str, at: float) -> FindingRow:
    return FindingRow(f"r-{i}", f"w-{i}", kind, priority, at, at, {"n": i},
                      {"zh-CN": kind, "en": kind})  # fmt: skip


def engine_rate(tmp: Path) -> float:
    store = seeded_store(tmp / "rate.db")
    engine = AlertEngine(store, StoreDirectory(store))
    engine.recover(time.time())
    kinds = [("vitals", "medium"), ("vitals", "high"), ("vitals_recovered", "low"),
             ("inactivity", "medium"), ("low_battery", "low")]  # fmt: skip
    now = time.time()
    start = time.perf_counter()
    for n in range(FINDINGS):
        kind, prio = kinds[n % len(kinds)]
        at = now + n * 0.001  # each finding is its own event (one finding opens one alert)
        engine.on_finding(finding(n % RESIDENTS, kind, prio, at), at)
    elapsed = time.perf_counter() - start
    store.close()
    return FINDINGS / elapsed


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


async def notify_latency(tmp: Path) -> list[float]:
    server, arrivals = receiver()
    hook = f"hmac://bench-secret@127.0.0.1:{server.server_address[1]}/hook"
    store = seeded_store(tmp / "latency.db", hook)
    engine = AlertEngine(store, StoreDirectory(store))
    webhook = WebhookSender()
    runner = AlertRunner(engine, Dispatcher(webhook, AppriseSender()), concurrency=32)
    await runner.recover()
    loop = asyncio.create_task(runner.run())
    opened: dict[str, float] = {}
    opened_ids: list[str] = []
    engine.add_listener(
        lambda e: opened.setdefault(e.alert.id, time.perf_counter()) if e.action == "opened"
        else None
    )  # fmt: skip
    now = time.time()
    await runner.on_findings([finding(i, "fall", "high", now) for i in range(BURST)])
    opened_ids = list(opened)
    deadline = time.perf_counter() + 30
    while len(arrivals) < BURST and time.perf_counter() < deadline:  # noqa: ASYNC110 - polls a thread
        await asyncio.sleep(0.01)
    if runner.failed:
        print(f"note: {runner.failed} attempts failed and were retried")
    loop.cancel()
    await asyncio.gather(loop, return_exceptions=True)
    await webhook.aclose()
    server.shutdown()
    store.close()
    missing = [i for i in opened_ids if i not in arrivals]
    if missing:
        raise SystemExit(f"{len(missing)} webhooks never arrived")
    return [(arrivals[i] - opened[i]) * 1000 for i in opened_ids]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rate = engine_rate(Path(tmp))
        lat = sorted(asyncio.run(notify_latency(Path(tmp))))
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    show("alert engine", [
        ("findings through the engine (SQLite)", f"{rate:,.0f} /s"),
        (f"open → webhook received, {BURST} at once, p50", f"{p50:.0f} ms"),
        (f"open → webhook received, {BURST} at once, p99", f"{p99:.0f} ms"),
    ])  # fmt: skip
    record({"alerts_per_s": round(rate), "notify_p50_ms": round(p50, 1),
            "notify_p99_ms": round(p99, 1)})  # fmt: skip


if __name__ == "__main__":
    main()
