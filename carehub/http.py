"""The health routes alone, for a hub served without the dashboard (and tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from dashboard.routers.health import health_router

if TYPE_CHECKING:
    from hub.runtime.node import HubNode


def create_app(hub: HubNode) -> FastAPI:
    """A minimal app serving ``/healthz`` and ``/metrics`` for ``hub``."""
    app = FastAPI(title="carehub hub", version="1")
    app.state.hub = hub
    app.include_router(health_router())
    return app
