"""``carehub serve`` before the hub runs: the HTTP server is up first, and says why not yet.

The hub needs its store to start (registry, duplicate filter, open alerts); a database that
is down at start-up is waited for with back-off (:func:`hub.backoff.retry`), not given up
on. Meanwhile the HTTP server already listens with :class:`Gate` as its app: ``/healthz``
answers 503 with what is not ready, how many attempts were made, when the next one is and
how old that news is (so an orchestrator's probe sees a hub that is waiting, not a dead
one); every other path answers 503 ``starting``; WebSockets are closed with 1013 (try
again later). Once the hub has started, the gate hands every request to the dashboard.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

TRY_AGAIN_LATER = 1013
"""WebSocket close code: the server is overloaded or not ready (RFC 6455 registry)."""


class Startup:
    """What the hub waits for before it can start, as ``/healthz`` reports it."""

    def __init__(self, backend: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.clock = clock
        self.began = clock()
        self.attempts = 0
        self.error: str | None = "not tried yet"
        self.failed_at: float | None = None
        self.next_try_at: float | None = None

    def failed(self, exc: BaseException, delay: float) -> None:
        """An attempt failed; the next is in ``delay`` s (``hub.backoff.retry``'s callback)."""
        now = self.clock()
        self.attempts += 1
        self.error, self.failed_at, self.next_try_at = str(exc), now, now + delay

    def report(self) -> dict[str, Any]:
        """The body of ``/healthz`` while the hub starts (the keys of the running hub's)."""
        now = self.clock()
        age = None if self.failed_at is None else round(now - self.failed_at, 2)
        next_in = None if self.next_try_at is None else round(max(0.0, self.next_try_at - now), 2)
        return {
            "ok": False,
            "state": "starting",
            "not_ready": ["store", "mqtt"],
            "mqtt": {"connected": False},
            "store": {"ok": False, "backend": self.backend, "error": self.error, "age_s": age},
            "probe_age_s": age,
            "batches_written": 0,
            "uptime_s": None,
            "retry": {
                "attempts": self.attempts,
                "next_try_in_s": next_in,
                "waiting_s": round(now - self.began, 1),
            },
        }


class Gate:
    """The ASGI app of the HTTP server: :class:`Startup`'s answers until :attr:`app` is set,
    then the app itself (the dashboard, whose lifespan the caller runs)."""

    def __init__(self, startup: Startup) -> None:
        self.startup = startup
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            return
        if scope["type"] != "http":
            return
        report = self.startup.report()
        headers = {"Retry-After": str(max(1, round(report["retry"]["next_try_in_s"] or 1)))}
        if scope["path"] == "/healthz":
            response = JSONResponse(report, status_code=503, headers=headers)
        else:
            error = {
                "code": "starting",
                "message": "the hub is starting: " + ", ".join(report["not_ready"]) + " not ready",
                "details": {"store_error": report["store"]["error"]},
            }
            response = JSONResponse({"error": error}, status_code=503, headers=headers)
        await response(scope, receive, send)
