"""``/healthz``, ``/readyz`` and ``/metrics`` of a bridge or a worker (``CAREHUB_HEALTH_PORT``
or ``--health-port``; 0: none).

- ``/healthz`` (liveness): 200 while the process's event loop answers; an orchestrator
  restarts the process when it stops answering.
- ``/readyz`` (readiness): 200 when the process is connected to what it needs — a bridge
  to the MQTT broker, NATS and PostgreSQL; a worker to NATS and PostgreSQL with its lease
  keeper renewing — else 503; the body says what is not, and for a worker which partitions
  it holds, each ``live`` or ``replaying`` (claimed, its detector state being rebuilt).
- ``/metrics``: the process's Prometheus registry (:class:`hub.metrics.HubMetrics`).

The server is uvicorn on the process's own event loop, without its signal handling (the
process's own Ctrl-C and SIGTERM handling stays as it is).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from carehub.serve import uvicorn_options
from hub.metrics import HubMetrics

Ready = Callable[[], Awaitable[dict[str, Any]]]
"""Returns the readiness report: ``ok`` and whatever explains it."""


def health_app(ready: Ready, metrics: HubMetrics, before_scrape: Callable[[], None]) -> FastAPI:
    app = FastAPI(title="carehub cluster process", version="1", openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        report = await ready()
        return JSONResponse(report, status_code=200 if report.get("ok") else 503)

    @app.get("/metrics")
    async def scrape() -> Response:
        before_scrape()
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


class HealthServer:
    """The routes above on ``host:port``; :meth:`start` returns once it listens."""

    def __init__(
        self, host: str, port: int, ready: Ready, metrics: HubMetrics,
        before_scrape: Callable[[], None] = lambda: None,
    ) -> None:  # fmt: skip
        config = uvicorn.Config(
            health_app(ready, metrics, before_scrape), host=host, port=port, lifespan="off",
            **uvicorn_options(),
        )  # fmt: skip
        self.server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(), name="health-server")
        while not (self.server.started or self._task.done()):  # noqa: ASYNC110 - uvicorn's flag
            await asyncio.sleep(0.02)
        if self._task.done():
            self._task.result()  # raises what stopped it (the port is taken, say)
            raise OSError("the health server stopped at start")

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, SystemExit):
            await asyncio.wait_for(self._task, 5.0)
        self._task = None


class _QuietServer(uvicorn.Server):
    """uvicorn's server, leaving the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
