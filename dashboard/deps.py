"""FastAPI dependencies: the app context, the authenticated caller and role checks.

Routes declare what they do with ``Depends(Allowed("alerts.act"))``; the authorization
matrix test reads that back from every route. Cookie sessions must send the CSRF token on
every method that changes state; bearer tokens need none (a browser never adds them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fastapi import Depends, Request

from dashboard.auth import CSRF_HEADER, SESSION_COOKIE, Authenticator, AuthError, Principal, csrf_ok
from dashboard.errors import ApiError, forbidden
from dashboard.proxies import Network
from dashboard.scope import Scope, scope_for
from dashboard.settings import DashboardSettings
from hub.store.base import Store

if TYPE_CHECKING:
    from alerts.engine import AlertEngine
    from alerts.runner import AlertRunner
    from dashboard.ws import Broadcaster
    from hub.metrics import HubMetrics
    from hub.registry.live import LiveRegistry
    from hub.runtime.visits import VisitKeeper
    from hub.settings import HubSettings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Observed(Protocol):
    """What the dashboard needs of the ingest pipeline: its observers of committed batches."""

    @property
    def observers(self) -> list[Any]: ...


class Hub(Protocol):
    """What the dashboard needs of the running hub (``carehub.serve.Hub`` is one): the
    store, the alert engine and its runner, the pipeline's observers, health and metrics."""

    store: Store
    settings: HubSettings
    metrics: HubMetrics

    @property
    def pipeline(self) -> Observed: ...

    alert_engine: AlertEngine
    alerts: AlertRunner
    registry: LiveRegistry
    visits: VisitKeeper
    clock: Callable[[], float]

    async def health(self) -> dict[str, Any]: ...

    def refresh_gauges(self) -> None: ...

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Send a message to the broker (a command to a device)."""
        ...


@dataclass
class Context:
    """Long-lived things the routes use (``app.state.ctx``)."""

    hub: Hub
    store: Store
    settings: DashboardSettings
    auth: Authenticator
    clock: Callable[[], float]
    proxies: tuple[Network, ...] = ()
    """``CAREHUB_TRUSTED_PROXIES``, parsed (:mod:`dashboard.proxies`)."""
    broadcaster: Broadcaster | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def registry_changed(ctx: Context) -> None:
    """After a write to stations, residents or devices: refresh the hub's live registry so
    every part of the hub follows at once, and wait until the consoles were told."""
    await ctx.hub.registry.refresh()
    if ctx.broadcaster is not None:
        await ctx.broadcaster.settle()


def get_ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


CtxDep = Annotated[Context, Depends(get_ctx)]


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    scope: Scope

    @property
    def user_id(self) -> str:
        return self.principal.user.id

    @property
    def actor(self) -> str:
        """How the caller appears on alert timelines (``user:ID``)."""
        return f"user:{self.principal.user.id}"


def bearer(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


async def authenticate(ctx: Context, headers: Any, cookies: dict[str, str]) -> Caller:
    """The caller of a request or WebSocket: a bearer token first, else the session."""
    token = bearer(headers.get("authorization"))
    if token is not None:
        principal = await asyncio.to_thread(ctx.auth.from_token, token)
    elif cookies.get(SESSION_COOKIE):
        principal = await asyncio.to_thread(ctx.auth.from_cookie, cookies[SESSION_COOKIE])
    else:
        raise AuthError("not logged in")
    scope = await asyncio.to_thread(scope_for, ctx.store, principal.user)
    return Caller(principal, scope)


async def current_caller(request: Request, ctx: CtxDep) -> Caller:
    caller = await authenticate(ctx, request.headers, dict(request.cookies))
    request.state.language = caller.principal.user.language  # errors speak it (dashboard.errors)
    if (
        caller.principal.via == "session"
        and request.method not in SAFE_METHODS
        and not csrf_ok(caller.principal.session, request.headers.get(CSRF_HEADER))
    ):
        raise ApiError(403, "csrf", f"missing or wrong {CSRF_HEADER} header")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


class Allowed:
    """Dependency: the caller, when their role may do ``action`` (else 403)."""

    def __init__(self, action: str) -> None:
        from dashboard.scope import PERMISSIONS

        if action not in PERMISSIONS:
            raise KeyError(f"unknown action {action!r}")
        self.action = action

    async def __call__(self, caller: CallerDep) -> Caller:
        if not caller.scope.can(self.action):
            raise forbidden(f"role {caller.scope.role} may not {self.action}")
        return caller


def allowed(action: str) -> Any:
    """``Annotated[Caller, allowed("x")]`` for route signatures."""
    return Depends(Allowed(action))
