"""Logins under attack: password checks in their own bounded pool (the console stays
responsive during a flood), X-Forwarded-For believed only from trusted proxies, and
throttling per account and per source, counted before the password is checked."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from dashboard.auth import AuthError, Busy, HashPool, RateLimited
from dashboard.settings import DashboardSettings
from hub.errors import ConfigError
from hub.store.base import UserRow
from tests.dashboard.conftest import _HASH, PASSWORD, T0, World, error_code
from tests.dashboard.served import TIMEOUT, Served

FLOOD = 96
BOUND_S = 3.0
"""Generous: an idle answer takes milliseconds; with password hashing in the thread pool
the rest of the dashboard shares, a console request waited 12 to 20 s behind 96 logins on a
two-core machine (``bench/login.py``)."""


@pytest.mark.slow
async def test_healthz_and_the_console_answer_during_a_login_flood(
    serve: Callable[..., Served], world: World
) -> None:
    for i in range(FLOOD):
        world.store.add_user(UserRow(f"flood.{i}", "n", "station_staff", _HASH, T0, "st-a"))
    # every login comes from this one address: let it make them all, so all are hashed
    s = serve(login_source_attempts=FLOOD)
    token = s.token("station_staff.a")
    limits = httpx.Limits(max_connections=FLOOD + 4)
    async with (
        httpx.AsyncClient(base_url=s.url, timeout=120, limits=limits) as logins,
        httpx.AsyncClient(base_url=s.url, timeout=120, headers=token) as console,
    ):
        body = [{"user": f"flood.{i}", "password": PASSWORD} for i in range(FLOOD)]
        flood = [asyncio.create_task(logins.post("/api/auth/login", json=b)) for b in body]
        slowest = {"/healthz": 0.0, "/api/me": 0.0}
        rounds = 0
        while not all(t.done() for t in flood):
            for path, worst in slowest.items():
                t0 = time.perf_counter()
                r = await console.get(path)
                assert r.status_code in (200, 503), r.text  # 503: the hub has no broker here
                slowest[path] = max(worst, time.perf_counter() - t0)
            rounds += 1
            await asyncio.sleep(0.05)
        answers = await asyncio.gather(*flood)
        statuses = [r.status_code for r in answers]
    assert rounds >= 3, "the flood ended before it could be observed"
    assert statuses == [200] * FLOOD
    assert slowest["/healthz"] < BOUND_S and slowest["/api/me"] < BOUND_S, slowest


async def test_the_hash_pool_is_bounded() -> None:
    pool = HashPool(workers=1, waiting=1)
    release = threading.Event()
    try:
        first = asyncio.create_task(pool.run(release.wait, TIMEOUT))
        second = asyncio.create_task(pool.run(release.wait, TIMEOUT))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await pool.run(release.wait, TIMEOUT)  # a third, beyond the bound, at once
        release.set()
        assert await first and await second
        assert await pool.verify(_HASH, PASSWORD)  # room again
    finally:
        release.set()
        pool.close()


def test_a_busy_login_is_503_and_does_not_count(world: World) -> None:
    auth = world.app.state.ctx.auth
    auth.hashing.waiting = -1  # nothing may even start: every login finds the pool full
    for _ in range(6):
        r = world.client.post("/api/auth/login", json={"user": "city_admin", "password": "x"})
        assert r.status_code == 503 and error_code(r) == "busy" and r.headers["Retry-After"]
    auth.hashing.waiting = 128
    ok = world.client.post("/api/auth/login", json={"user": "city_admin", "password": PASSWORD})
    assert ok.status_code == 200  # the refused ones were not failures


def _login(client: TestClient, user: str, password: str, xff: str | None = None) -> Any:
    headers = {"X-Forwarded-For": xff} if xff else {}
    return client.post("/api/auth/login", json={"user": user, "password": password},
                       headers=headers)  # fmt: skip


async def test_rotating_x_forwarded_for_does_not_reset_the_lockout(
    serve: Callable[..., Served],
) -> None:
    s = serve()  # uvicorn as carehub serve runs it, from localhost, no trusted proxy
    async with httpx.AsyncClient(base_url=s.url, timeout=TIMEOUT) as c:
        for i in range(5):
            r = await c.post("/api/auth/login", json={"user": "city_admin", "password": "wrong"},
                             headers={"X-Forwarded-For": f"203.0.113.{i}"})  # fmt: skip
            assert r.status_code == 401
        r = await c.post("/api/auth/login", json={"user": "city_admin", "password": PASSWORD},
                         headers={"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
    assert r.status_code == 429 and error_code(r) == "rate_limited"


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(world: World) -> None:
    ctx = world.app.state.ctx
    ctx.proxies = DashboardSettings(trusted_proxies="10.0.0.0/8, 192.0.2.1").proxy_networks()
    proxy = TestClient(world.app, client=("10.1.2.3", 40000))
    for _ in range(5):  # the client's own X-Forwarded-For part is ignored: the proxy appends
        assert (
            _login(proxy, "city_admin", "wrong pass", xff="1.1.1.1, 203.0.113.9").status_code == 401
        )
    assert _login(proxy, "city_admin", PASSWORD, xff="6.6.6.6, 203.0.113.9").status_code == 429
    # another client behind the same proxy (two proxies deep) is not locked out
    assert _login(proxy, "city_admin", PASSWORD, xff="198.51.100.7, 192.0.2.1").status_code == 200


def test_spraying_one_password_over_many_accounts_is_limited(world: World) -> None:
    limiter = world.app.state.ctx.auth.limiter
    limiter.source_attempts = 4
    users = ["station_staff.a", "station_staff.b", "family.a", "family.b", "city_admin"]
    for user in users[:4]:
        assert _login(world.client, user, "Summer2026!").status_code == 401
    r = _login(world.client, users[4], PASSWORD)  # even with the right password, for a while
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    world.clock.t += 301
    assert _login(world.client, users[4], PASSWORD).status_code == 200


def test_guessing_one_account_from_many_sources_is_limited(world: World) -> None:
    ctx = world.app.state.ctx
    ctx.proxies = DashboardSettings(trusted_proxies="10.0.0.0/8").proxy_networks()
    ctx.auth.limiter.account_attempts = 6
    proxy = TestClient(world.app, client=("10.0.0.2", 40000))
    for i in range(6):
        assert _login(proxy, "city_admin", "wrong pass", xff=f"203.0.113.{i}").status_code == 401
    assert _login(proxy, "city_admin", PASSWORD, xff="198.51.100.1").status_code == 429
    assert _login(proxy, "station_staff.a", PASSWORD, xff="198.51.100.1").status_code == 200


async def test_parallel_attempts_all_count(world: World) -> None:
    auth = world.app.state.ctx.auth
    tries = [auth.login("city_admin", "wrong pass", "203.0.113.5") for _ in range(12)]
    results = await asyncio.gather(*tries, return_exceptions=True)
    limited = [r for r in results if isinstance(r, RateLimited)]
    wrong = [r for r in results if isinstance(r, AuthError) and not isinstance(r, RateLimited)]
    assert (len(wrong), len(limited)) == (5, 7)


def test_malformed_trusted_proxies_are_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        DashboardSettings(trusted_proxies="10.0.0.0/8, proxy.example")
