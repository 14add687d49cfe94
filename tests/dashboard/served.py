"""The world's hub behind a dashboard served by uvicorn with ``carehub serve``'s options,
for tests that need real HTTP and WebSocket connections (the ``serve`` fixture)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from carehub.serve import uvicorn_options
from dashboard.app import create_app
from dashboard.settings import DashboardSettings
from dashboard.ws import Broadcaster
from hub.broker.embedded import free_port
from tests.dashboard.conftest import PASSWORD, World

TIMEOUT = 15.0


class Served:
    """The world's hub behind a dashboard served by uvicorn on a free port."""

    def __init__(self, world: World, url: str, app: Any) -> None:
        self.world = world
        self.url = url
        self.app = app

    @property
    def broadcaster(self) -> Broadcaster:
        b = self.app.state.ctx.broadcaster
        assert isinstance(b, Broadcaster)
        return b

    def token(self, user: str) -> dict[str, str]:
        _, token = self.app.state.ctx.auth.new_token(user, "test")
        return {"Authorization": f"Bearer {token}"}

    @contextlib.asynccontextmanager
    async def login(self, user: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
        """An HTTP client holding a session of ``user``, and the WebSocket headers for it."""
        async with httpx.AsyncClient(base_url=self.url, timeout=TIMEOUT) as http:
            r = await http.post("/api/auth/login", json={"user": user, "password": PASSWORD})
            assert r.status_code == 200, r.text
            http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            yield http, {"Cookie": f"carehub_session={http.cookies['carehub_session']}"}

    @contextlib.asynccontextmanager
    async def socket(self, headers: dict[str, str], query: str = "") -> AsyncIterator[Socket]:
        url = self.url.replace("http://", "ws://") + "/ws" + query
        async with connect(url, additional_headers=headers) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            yield Socket(ws, first)


class Socket:
    def __init__(self, ws: ClientConnection, first: dict[str, Any]) -> None:
        self.ws = ws
        self.first = first

    async def closed(self) -> tuple[int, str]:
        """Read until the server closes the connection; its close code and reason."""
        async with asyncio.timeout(TIMEOUT):
            with pytest.raises(ConnectionClosed) as info:
                await self._drain()
        frame = info.value.rcvd
        assert frame is not None, "closed without a close frame"
        return frame.code, frame.reason

    async def _drain(self) -> None:
        while True:
            await self.ws.recv()

    async def still_open(self) -> None:
        """Open: a ping is answered."""
        await self.ws.send(json.dumps({"type": "ping"}))
        async with asyncio.timeout(TIMEOUT):
            while json.loads(await self.ws.recv())["type"] != "pong":
                pass


@contextlib.contextmanager
def serving(world: World) -> Iterator[Callable[..., Served]]:
    """Start dashboards over ``world`` with the given settings (stopped at the end)."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(recheck_s: float = 3600, **settings: Any) -> Served:
        settings = {"cookie_secure": False, "ws_heartbeat_s": 3600, "ws_recheck_s": recheck_s,
                    **settings}  # fmt: skip
        app = create_app(world.hub, DashboardSettings(**settings), clock=world.clock)
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                **uvicorn_options())  # fmt: skip
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="ws-sessions-server", daemon=True)
        thread.start()
        servers.append((server, thread))
        url = f"http://127.0.0.1:{port}"
        for _ in range(int(TIMEOUT / 0.05)):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "the dashboard did not start"
        return Served(world, url, app)

    try:
        yield start
    finally:
        for server, thread in servers:
            server.should_exit = True
            thread.join(TIMEOUT)
