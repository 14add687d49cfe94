"""Security headers on every HTTP response (a pure ASGI middleware: WebSockets and
streamed responses pass through untouched).

- ``Content-Security-Policy``: the UI loads only its own scripts, styles, translations and
  WebSocket (no inline script, no ``eval``, no plugins), and may not be framed
  (``frame-ancestors 'none'``, with ``X-Frame-Options: DENY`` for older browsers). The
  OpenAPI pages (``/docs``, ``/redoc``) load FastAPI's viewer from its CDN with an inline
  bootstrap script, so they get a policy that allows just that.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` (a resident's page
  address never leaves the site), ``Cross-Origin-Opener-Policy: same-origin``, a
  ``Permissions-Policy`` that turns off camera, microphone and geolocation — but for
  the care worker's phone page (``/static/worker.html``), whose check-in sends the
  phone's position, which may use geolocation on this origin.
- ``Cache-Control: no-store`` on ``/api`` answers: residents' data stays out of shared
  caches and the browser's disk cache.
- In production, ``Strict-Transport-Security`` (one year): the dashboard is served over
  HTTPS only (docs/operations.md), and a browser that has seen it once never tries HTTP.

The server banner is off in ``carehub serve`` (``server_header=False``); a ``server``
header an application set is removed here too.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000"

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
PERMISSIONS = "camera=(), microphone=(), geolocation=()"
LOCATING_PERMISSIONS = "camera=(), microphone=(), geolocation=(self)"
LOCATING_PAGES = frozenset({"/static/worker.html"})
"""Pages that may ask for the device's position (the worker's check-in)."""


class SecurityHeaders:
    """Adds the headers above to every HTTP response of ``app``."""

    def __init__(self, app: ASGIApp, *, production: bool = False) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(DOCS_PATHS)
        api = path.startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers[name] = value
                headers["permissions-policy"] = (
                    LOCATING_PERMISSIONS if path in LOCATING_PAGES else PERMISSIONS
                )
                headers["content-security-policy"] = DOCS_CSP if docs else CSP
                if api and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
                if self.production:
                    headers["strict-transport-security"] = HSTS
                if "server" in headers:
                    del headers["server"]
            await send(message)

        await self.app(scope, receive, send_with_headers)
