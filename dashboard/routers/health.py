"""The hub's own HTTP surface: ``/healthz`` and Prometheus ``/metrics``.

Mounted at the root (not under ``/api``): probes and scrapers expect these paths. The
running hub is read from ``app.state.hub``; ``carehub serve`` without a dashboard serves
these routes alone (``carehub.http``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from dashboard.deps import Hub


def health_router() -> APIRouter:
    """Routes that read the running hub from ``app.state.hub``."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness and readiness of the hub")
    async def healthz(request: Request) -> JSONResponse:
        hub: Hub = request.app.state.hub
        report: dict[str, Any] = await hub.health()
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    @router.get("/metrics", summary="Prometheus metrics")
    async def metrics(request: Request) -> Response:
        hub: Hub = request.app.state.hub
        hub.refresh_gauges()
        return Response(generate_latest(hub.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
