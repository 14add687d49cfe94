"""The dashboard app: REST API, ``/ws``, the static UI, and the hub's health routes.

The hub (``carehub.serve.Hub``) is started and stopped by the caller (``serve()``); the app's
lifespan only owns what the dashboard adds (the WebSocket broadcaster). Routes reach the
hub, the store and the authenticator through ``app.state.ctx`` (:mod:`dashboard.deps`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from dashboard import errors
from dashboard.auth import Authenticator, HashPool, LoginLimiter
from dashboard.deps import Context
from dashboard.fanout import StoreFanout
from dashboard.headers import SecurityHeaders
from dashboard.routers import (
    alerts,
    devices,
    dispatch,
    fhir,
    health,
    kpi,
    order_work,
    orders,
    ratings,
    resident_orders,
    residents,
    services,
    session,
    silences,
    stations,
    users,
    visit_plans,
    visits,
    workers,
)
from dashboard.settings import DashboardSettings
from dashboard.vitals_feed import StoreVitals
from dashboard.ws import Broadcaster, ws_router
from dashboard.ws_direct import keep_raw_send

if TYPE_CHECKING:
    from dashboard.deps import Hub

HERE = Path(__file__).parent


class DashboardApp(FastAPI):
    """FastAPI, keeping the server's own ``send`` of each WebSocket connection in its scope
    before any middleware wraps it, so the broadcaster can write frames to it directly
    (:mod:`dashboard.ws_direct`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        keep_raw_send(scope, send)
        await super().__call__(scope, receive, send)


def create_app(
    hub: Hub, settings: DashboardSettings | None = None, *,
    clock: Callable[[], float] | None = None, change_feed: str | None = None,
) -> FastAPI:  # fmt: skip
    """The dashboard for a running (or about to run) ``hub``.

    ``clock`` defaults to the hub's; tests inject one to move time (sessions, rate limits).
    ``change_feed``: a PostgreSQL URL whose change notifications feed the WebSocket clients
    (:mod:`dashboard.fanout`: alerts raised by any process of a cluster) instead of this
    process's own engine and pipeline; the tiles' vitals are then read from the store
    (:mod:`dashboard.vitals_feed`).
    """
    settings = settings or DashboardSettings()
    clock = clock or hub.clock
    limiter = LoginLimiter(
        settings.login_attempts, settings.login_window_s, clock=clock,
        account_attempts=settings.login_account_attempts,
        source_attempts=settings.login_source_attempts,
    )  # fmt: skip
    hashing = HashPool(settings.login_hash_workers, settings.login_hash_waiting)
    auth = Authenticator(
        hub.store, secret=settings.secret(), session_s=settings.session_hours * 3600,
        limiter=limiter, clock=clock, hashing=hashing,
    )  # fmt: skip
    ctx = Context(hub=hub, store=hub.store, settings=settings, auth=auth, clock=clock,
                  proxies=settings.proxy_networks())  # fmt: skip
    ctx.broadcaster = Broadcaster(ctx, local=change_feed is None)
    fanout = StoreFanout(ctx, ctx.broadcaster, change_feed) if change_feed else None
    ctx.extra["fanout"] = fanout
    vitals = StoreVitals(ctx, ctx.broadcaster) if change_feed else None
    ctx.extra["vitals"] = vitals

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert ctx.broadcaster is not None
        await ctx.broadcaster.start()
        if fanout is not None:
            await fanout.start()
        if vitals is not None:
            await vitals.start()
        try:
            yield
        finally:
            if vitals is not None:
                await vitals.stop()
            if fanout is not None:
                await fanout.stop()
            await ctx.broadcaster.stop()
            hashing.close()

    app = DashboardApp(
        title="carehub dashboard", version="1", lifespan=lifespan,
        description="Stations, residents, devices, alerts and users of a carehub node. "
        "Browsers use a session cookie and send X-CSRF-Token on writes; API clients send "
        "Authorization: Bearer <token>. Every error has the body {error: {code, message, "
        "details}}.",
    )  # fmt: skip
    app.state.hub = hub  # read by dashboard.routers.health
    app.state.ctx = ctx
    errors.install(app)
    app.add_middleware(SecurityHeaders, production=settings.production)
    app.include_router(health.health_router())
    for module in (session, stations, residents, devices, alerts, silences, users, services,
                   workers, orders, dispatch, order_work, visit_plans, visits,
                   ratings, resident_orders, kpi, fhir):  # fmt: skip
        app.include_router(module.router)
    app.include_router(ws_router())
    static = HERE / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static, html=True), name="static")
    i18n = HERE / "i18n"
    if i18n.is_dir():
        app.mount("/i18n", StaticFiles(directory=i18n), name="i18n")

    @app.get("/", include_in_schema=False)
    async def index() -> RedirectResponse:
        return RedirectResponse("/static/index.html")

    return app
