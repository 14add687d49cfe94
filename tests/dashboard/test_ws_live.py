"""``/ws`` under uvicorn, where the broadcaster writes encoded frames straight to each
connection (dashboard/ws_direct.py): the same protocol as through the queue (snapshot,
ordered live events, ping/pong, resume without loss), and a client that stops reading is
dropped once its unsent bytes pass the bound, never waited on."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from dashboard.auth import Authenticator, LoginLimiter
from dashboard.settings import DashboardSettings
from dashboard.ws import Broadcaster
from hub.store.sqlite import SqliteStore
from tests.browser.server import STAFF, LiveServer, live_server, populate, wait_until

pytestmark = [pytest.mark.broker]
TIMEOUT = 15.0


@pytest.fixture
def live(tmp_path: Path, mosquitto: Any) -> Iterator[LiveServer]:
    store = SqliteStore(tmp_path / "carehub.db")
    store.migrate()
    populate(store, time.time())
    settings = DashboardSettings(cookie_secure=False, ws_heartbeat_s=0.5,
                                 ws_buffer_bytes=16_384, ws_history=100)  # fmt: skip
    try:
        with live_server(store, mosquitto.url, settings=settings) as server:
            yield server
    finally:
        store.close()


def token(live: LiveServer) -> str:
    auth = Authenticator(live.store, secret=b"", session_s=0,
                         limiter=LoginLimiter(1, 1, clock=time.time), clock=time.time)  # fmt: skip
    return auth.new_token(STAFF, "test")[1]


def broadcaster(live: LiveServer) -> Broadcaster:
    b = live.app.state.ctx.broadcaster
    assert isinstance(b, Broadcaster)
    return b


def publish(live: LiveServer, texts: list[str]) -> None:
    """Publish from the server's event loop, as the engine and the pipeline do."""
    b = broadcaster(live)
    assert b._loop is not None

    def run() -> None:
        for text in texts:
            b.publish("resident", {"text": text}, station_id="st-1", resident_id="r-1")

    b._loop.call_soon_threadsafe(run)


async def frames(ws: Any, n: int, skip: str = "heartbeat") -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(TIMEOUT):
        while len(got) < n:
            msg = json.loads(await ws.recv())
            if msg["type"] != skip:
                got.append(msg)
    return got


def ws_url(live: LiveServer, query: str = "") -> str:
    return live.url.replace("http://", "ws://") + "/ws" + query


async def test_direct_writes_keep_the_protocol(live: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {token(live)}"}
    async with connect(ws_url(live), additional_headers=headers) as ws:
        (snap,) = await frames(ws, 1)
        assert snap["type"] == "snapshot" and snap["residents"][0]["id"] == "r-1"
        (client,) = broadcaster(live).clients
        # the server switches to direct writes just after the snapshot left: give it a turn
        async with asyncio.timeout(TIMEOUT):
            while client.direct is None:  # noqa: ASYNC110 - a flag of the server's
                await asyncio.sleep(0.01)
        assert client.direct is not None and client.writer is None  # the direct path
        publish(live, [f"n{i}" for i in range(50)])
        got = await frames(ws, 50)
        assert [m["text"] for m in got] == [f"n{i}" for i in range(50)]
        assert [m["id"] for m in got] == list(range(got[0]["id"], got[0]["id"] + 50))
        await ws.send(json.dumps({"type": "ping"}))
        assert await frames(ws, 1) == [{"type": "pong"}]
        (beat,) = await frames(ws, 1, skip="")
        assert beat["type"] == "heartbeat" and beat["last_event_id"] == got[-1]["id"]
        epoch, last = snap["epoch"], got[-1]["id"]
    b = broadcaster(live)
    await asyncio.to_thread(wait_until, "the client to leave", lambda: not b.clients)
    publish(live, ["while away 1", "while away 2"])
    query = f"?epoch={epoch}&last_event_id={last}"
    async with connect(ws_url(live, query), additional_headers=headers) as ws:
        head, *missed = await frames(ws, 3)
        assert head == {
            "type": "resumed",
            "epoch": epoch,
            "from": last,
            "count": 2,
            "heartbeat_s": b.heartbeat_s,
        }
        assert [m["text"] for m in missed] == ["while away 1", "while away 2"]
        publish(live, ["live again"])
        assert [m["text"] for m in await frames(ws, 1)] == ["live again"]


async def test_a_client_that_stops_reading_is_dropped_not_waited_on(live: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {token(live)}"}
    b = broadcaster(live)
    # max_queue=1: the client library stops reading its socket while nobody calls recv()
    async with connect(ws_url(live), additional_headers=headers, max_queue=1) as slow:
        await frames(slow, 1)
        async with connect(ws_url(live), additional_headers=headers) as keen:
            await frames(keen, 1)
            await asyncio.to_thread(wait_until, "two clients", lambda: len(b.clients) == 2)
            got: list[dict[str, Any]] = []
            reading = asyncio.create_task(collect(keen, got))  # this one keeps up
            for _ in range(1_000):  # until the kernel's buffers are full and then ours
                publish(live, ["x" * 20_000] * 5)  # the slow client reads nothing meanwhile
                await asyncio.sleep(0.01)
                if b.dropped_clients:
                    break
            assert b.dropped_clients == 1
            assert len(b.clients) == 1  # the one that keeps up stays
            publish(live, ["last"])
            async with asyncio.timeout(TIMEOUT):
                while not got or got[-1]["text"] != "last":  # noqa: ASYNC110 - the reader task
                    await asyncio.sleep(0.01)
            reading.cancel()
            # it got everything, in order, however slow the other one was
            assert [m["id"] for m in got] == list(range(got[0]["id"], got[0]["id"] + len(got)))
        assert isinstance(await read_until_closed(slow), ConnectionClosed)


async def collect(ws: Any, into: list[dict[str, Any]]) -> None:
    while True:
        msg = json.loads(await ws.recv())
        if msg["type"] != "heartbeat":
            into.append(msg)


async def read_until_closed(ws: Any) -> BaseException:
    async with asyncio.timeout(TIMEOUT):
        while True:
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                return exc
