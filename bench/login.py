"""``/healthz`` latency while 96 logins arrive at once.

A login verifies an argon2id hash (about 0.2 s of CPU with argon2-cffi's defaults, which
are deliberately slow). The dashboard runs under uvicorn in its own process, with the same
server options as ``carehub serve``, over a SQLite store with 96 users; this process first
measures ``/healthz`` on an idle server, then fires 96 logins (each with its correct
password, so no rate limit applies) while asking ``/healthz`` and ``/api/me`` every 50 ms,
and reports the median and worst ``/healthz`` latency during the flood, the same for a
console request (``GET /api/me`` with an API token: a store read in a worker thread), and
how long the logins took.

The hub behind the dashboard is not started (no broker): ``/healthz`` then answers 503,
which is what a probe sees while the broker is away; only its latency matters here.

Each figure is the median over ``--runs`` floods (5), each on a fresh server.

Run: ``.venv/bin/python -m bench.login`` (about 2 min). Merges ``healthz_login_flood_p50_ms``,
``healthz_login_flood_max_ms``, the same for ``api_me`` and ``login_flood_96_s`` into
``bench/results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import Figure, median, report, show
from hub.broker.embedded import free_port

PASSWORD = "correct horse battery"
LOGINS = 96
POLL_S = 0.05


def populate(db: Path, users: int) -> str:
    """A station with ``users`` staff; returns an API token of one of them."""
    from dashboard.auth import Authenticator, LoginLimiter, hash_password
    from hub.store.base import City, District, Station, UserRow
    from hub.store.sqlite import SqliteStore

    store = SqliteStore(db)
    store.migrate()
    store.add_city(City("sh", "上海市"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "pd", "花木"))
    hashed = hash_password(PASSWORD)
    for i in range(users):
        store.add_user(UserRow(f"staff.{i}", f"staff {i}", "station_staff", hashed, 0.0, "st-1"))
    auth = Authenticator(store, secret=b"", session_s=0, clock=time.time,
                         limiter=LoginLimiter(1, 1, clock=time.time))  # fmt: skip
    token = auth.new_token("staff.0", "bench")[1]
    store.close()
    return token


def serve(db: Path, port: int, logins: int) -> None:
    """The server process: the dashboard over ``db`` on ``port`` until killed."""
    import uvicorn

    from carehub.serve import Hub, uvicorn_options
    from dashboard.app import create_app
    from dashboard.settings import DashboardSettings
    from hub.settings import HubSettings
    from hub.store.sqlite import SqliteStore

    store = SqliteStore(db)
    hub = Hub(store, "mqtt://127.0.0.1:1?protocol=3", settings=HubSettings())
    # all logins come from one address here: let that source make them all (the limit on
    # attempts per source, counted before the password is checked, would refuse most)
    settings = DashboardSettings(cookie_secure=False, login_source_attempts=max(logins, 1))
    app = create_app(hub, settings)
    uvicorn.run(app, host="127.0.0.1", port=port, **uvicorn_options())


@contextlib.contextmanager
def server(db: Path, logins: int) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.login", "--serve", str(db), "--port", str(port),
         "--logins", str(logins)]
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the dashboard did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def timed(client: httpx.AsyncClient, path: str) -> float:
    t0 = time.perf_counter()
    r = await client.get(path)
    assert r.status_code in (200, 503), r.text
    return time.perf_counter() - t0


@dataclass
class Flood:
    idle: list[float] = field(default_factory=list)
    healthz: list[float] = field(default_factory=list)
    me: list[float] = field(default_factory=list)
    took: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)


async def flood(url: str, token: str, n: int) -> Flood:
    limits = httpx.Limits(max_connections=n + 8, max_keepalive_connections=n + 8)
    async with (
        httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as logins,
        httpx.AsyncClient(base_url=url, timeout=120) as probe,
        httpx.AsyncClient(base_url=url, timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as console,
    ):  # fmt: skip
        out = Flood()
        out.idle = [await timed(probe, "/healthz") for _ in range(20)]
        statuses = out.statuses

        async def poll(client: httpx.AsyncClient, path: str, into: list[float]) -> None:
            while True:  # at least once
                into.append(await timed(client, path))
                if all(t.done() for t in tasks):
                    return
                await asyncio.sleep(POLL_S)

        async def one(i: int) -> None:
            r = await logins.post("/api/auth/login",
                                  json={"user": f"staff.{i}", "password": PASSWORD})  # fmt: skip
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        t0 = time.perf_counter()
        tasks = [asyncio.create_task(one(i)) for i in range(n)]
        await asyncio.gather(poll(probe, "/healthz", out.healthz),
                             poll(console, "/api/me", out.me))  # fmt: skip
        await asyncio.gather(*tasks)
        out.took = time.perf_counter() - t0
        return out


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def measure(logins: int = LOGINS) -> tuple[dict[str, float], dict[int, int], Flood]:
    """Run the flood against a fresh server: the figures, the login statuses, the samples."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "carehub.db"
        token = populate(db, logins)
        with server(db, logins) as url:
            got = asyncio.run(flood(url, token, logins))
    results = {
        "healthz_idle_p50_ms": ms(median(got.idle)),
        "healthz_login_flood_p50_ms": ms(median(got.healthz)),
        "healthz_login_flood_max_ms": ms(max(got.healthz)),
        "api_me_login_flood_p50_ms": ms(median(got.me)),
        "api_me_login_flood_max_ms": ms(max(got.me)),
        f"login_flood_{logins}_s": round(got.took, 2),
    }
    return results, got.statuses, got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=LOGINS, help="parallel logins (96)")
    parser.add_argument("--runs", type=int, default=5, help="floods, each on a fresh server")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.logins)
        return
    runs = [measure(args.logins) for _ in range(args.runs)]
    results, statuses, got = runs[-1]
    show(f"/healthz during {args.logins} parallel logins (last of {args.runs} floods)", [
        *((k, str(v)) for k, v in results.items()),
        ("login statuses", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))),
        ("samples (healthz, /api/me)", f"{len(got.healthz)}, {len(got.me)}"),
    ])  # fmt: skip
    if args.logins != LOGINS:
        return
    figures = [Figure(k, median([r[k] for r, _s, _g in runs]), args.runs) for k in results]
    raise SystemExit(report("login flood", figures))


if __name__ == "__main__":
    main()
