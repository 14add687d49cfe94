"""``carehub serve`` recovers by itself: it starts with the database or the broker down,
answers ``/healthz`` quickly with what is not ready while it waits, comes up when they
return, and keeps answering ``/healthz`` within a second through a store outage.

The database is a cluster of the test's own (``tests/fixtures/pg_cluster.py``) that starts
late, or is killed under the running hub."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from carehub.serve import serve
from hub.broker.embedded import free_port
from hub.settings import HubSettings
from hub.tasks import cancel_and_wait
from tests.fixtures.brokers import MosquittoProcess
from tests.fixtures.pg_cluster import PgCluster
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.slow]

BOUND_S = 2.5
"""/healthz must answer within 1 s; asserted with room for a loaded test machine."""


def fast_settings(tmp_path: Path, **kw: Any) -> HubSettings:
    """Retries and probes on a scale of tenths of seconds, so the tests wait little."""
    return HubSettings(
        http_port=free_port(),
        data_dir=tmp_path,
        retry_min_s=0.1,
        retry_max_s=0.5,
        store_connect_timeout_s=1.0,
        health_probe_s=0.2,
        health_timeout_s=0.5,
        **kw,
    )


@contextlib.asynccontextmanager
async def serving(settings: HubSettings, lines: list[str]) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(serve(settings, announce=lines.append))
    try:
        yield task
    finally:
        await cancel_and_wait(task)


async def healthz(port: int, path: str = "/healthz") -> tuple[int, dict[str, Any], float]:
    """Status, body and how long the answer took."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        started = time.monotonic()
        response = await client.get(f"http://127.0.0.1:{port}{path}")
        took = time.monotonic() - started
    return response.status_code, response.json(), took


async def answered(port: int) -> tuple[int, dict[str, Any], float] | None:
    try:
        return await healthz(port)
    except httpx.TransportError:  # not listening yet
        return None


async def until(what: str, check: Any, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    pytest.fail(f"timed out after {within:g} s waiting for {what}")


async def test_serve_waits_for_the_database_and_comes_up_by_itself(
    pg_cluster: PgCluster, mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    settings = fast_settings(
        tmp_path,
        database_url=pg_cluster.url,  # initialised, not started: nothing listens yet
        mqtt_url=f"{mosquitto.url}?client_id=recover-{time.time_ns()}",
    )
    lines: list[str] = []
    async with serving(settings, lines) as task:
        port = settings.http_port
        first = await until("the HTTP server", lambda: answered(port))
        status, body, took = first
        assert (status, body["ok"]) == (503, False)
        assert took < BOUND_S
        assert "store" in body["not_ready"]
        assert body["store"]["ok"] is False and body["store"]["error"]
        await until("a retry", lambda: _attempts_at_least(port, 2))
        for _ in range(5):  # while it waits, every answer is quick
            status, body, took = await healthz(port)
            assert status == 503 and took < BOUND_S
            assert body["probe_age_s"] is not None and body["probe_age_s"] >= 0
        async with httpx.AsyncClient(timeout=10.0) as client:
            other = await client.get(f"http://127.0.0.1:{port}/api/alerts")
        assert other.status_code == 503
        assert other.json()["error"]["code"] == "starting"
        assert not task.done() and not any("health" in x for x in lines)

        await asyncio.to_thread(pg_cluster.start)
        await until("a healthy hub", lambda: _status_is(port, 200))
        status, body, took = await healthz(port)
        assert body["ok"] is True and body["not_ready"] == []
        assert body["store"] == {**body["store"], "ok": True, "backend": "postgres"}
        assert {"mqtt", "batches_written", "uptime_s", "probe_age_s"} <= body.keys()
        await eventually("the announcement", lambda: any("health" in x for x in lines))
        async with httpx.AsyncClient(timeout=10.0) as client:
            other = await client.get(f"http://127.0.0.1:{port}/api/alerts")
        assert other.status_code == 401  # the dashboard itself now: log in first


async def test_healthz_answers_quickly_through_a_store_outage(
    pg_cluster: PgCluster, mosquitto: MosquittoProcess, tmp_path: Path
) -> None:
    await asyncio.to_thread(pg_cluster.start)
    settings = fast_settings(
        tmp_path,
        database_url=pg_cluster.url,
        mqtt_url=f"{mosquitto.url}?client_id=outage-{time.time_ns()}",
    )
    lines: list[str] = []
    async with serving(settings, lines):
        port = settings.http_port
        await until("a healthy hub", lambda: _status_is(port, 200))
        await asyncio.to_thread(pg_cluster.kill)
        slowest = 0.0
        deadline = time.monotonic() + 20.0
        while True:
            status, body, took = await healthz(port)
            slowest = max(slowest, took)
            if status == 503:
                break
            assert time.monotonic() < deadline, "the outage was never reported"
            await asyncio.sleep(0.05)
        assert body["ok"] is False and body["store"]["ok"] is False
        assert body["not_ready"] == ["store"]
        for _ in range(10):  # the store keeps failing to answer; /healthz does not wait
            status, body, took = await healthz(port)
            slowest = max(slowest, took)
            assert status == 503
        assert slowest < BOUND_S
        await asyncio.to_thread(pg_cluster.start)
        await until("the hub to recover", lambda: _status_is(port, 200))


async def test_serve_waits_for_the_broker(tmp_path: Path) -> None:
    from tests.fixtures.brokers import _mosquitto_binary

    (tmp_path / "mqtt").mkdir()
    broker = MosquittoProcess(_mosquitto_binary(), tmp_path / "mqtt", free_port())
    settings = fast_settings(
        tmp_path,
        database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        mqtt_url=f"{broker.url}?client_id=late-{time.time_ns()}&reconnect_min=0.1&reconnect_max=0.5",
    )
    lines: list[str] = []
    try:
        async with serving(settings, lines):
            port = settings.http_port
            status, body, took = await until("the HTTP server", lambda: answered(port))
            await until("the hub waiting for the broker", lambda: _not_ready(port, ["mqtt"]))
            status, body, took = await healthz(port)
            assert status == 503 and took < BOUND_S
            assert body["store"]["ok"] is True and body["mqtt"]["connected"] is False
            await asyncio.to_thread(broker.start)
            await until("a healthy hub", lambda: _status_is(port, 200))
            await eventually("the announcement", lambda: any("health" in x for x in lines))
    finally:
        broker.stop()


async def _status_is(port: int, status: int) -> bool:
    got = await answered(port)
    return got is not None and got[0] == status


async def _attempts_at_least(port: int, n: int) -> bool:
    got = await answered(port)
    return got is not None and got[1].get("retry", {}).get("attempts", 0) >= n


async def _not_ready(port: int, what: list[str]) -> bool:
    got = await answered(port)
    return got is not None and got[1].get("not_ready") == what
