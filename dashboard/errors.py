"""One error body for every failure of the API::

    {"error": {"code": "not_found", "message": "未找到", "details": {"reason": "resident 'r-9'"}}}

``code`` is stable and machine-readable; ``message`` is its text in the caller's language
(their preference when logged in, else ``Accept-Language``, else
``CAREHUB_DEFAULT_LANGUAGE``; the catalogues are the UI's, :mod:`dashboard.messages`).
``details`` is structured and written by this project only: ``reason`` (our own English
explanation, naming only what the caller sent or may see) or ``retry_after_s``; for
invalid input, a list of fields (``loc``, a machine ``type`` such as ``string_too_long``,
numeric ``limits``, and the ``reason`` our own validators gave). Text of the
database driver, of pydantic or of an unexpected exception never reaches a response: it is
logged instead. Our exception tree is mapped here, so routes raise :class:`ApiError` or a
:class:`hub.errors.CarehubError` and never build responses.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts.escalation import PolicyError
from alerts.rules import RuleError
from alerts.state import TransitionError
from dashboard.auth import AuthError, Busy, RateLimited
from dashboard.messages import error_message, pick_language
from hub.dispatch.lifecycle import OrderTransitionError
from hub.errors import CarehubError, Conflict, NotFound, RegistryError, StoreError, StoreUnavailable

log = logging.getLogger(__name__)


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Bad request"), (401, "Not authenticated"), (403, "Forbidden"),
        (404, "Not found (or not visible to you)"), (409, "Conflict"),
        (422, "Invalid input"), (429, "Too many requests"), (503, "Busy or unavailable"),
    )
}  # fmt: skip
"""Documented on every route of the OpenAPI document."""


class ApiError(CarehubError):
    """An error of the API; ``message`` is our own English explanation (``details.reason``)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def forbidden(message: str = "your role may not do this") -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def language(request: Request) -> str:
    """The caller's language: set by authentication, else asked for, else the default."""
    chosen = getattr(request.state, "language", None)
    if chosen:
        return str(chosen)
    ctx = getattr(request.app.state, "ctx", None)
    default = ctx.settings.default_language if ctx is not None else "zh-CN"
    return pick_language(request.headers.get("accept-language"), default=default)


def body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def invalid(field: str, reason: str) -> ApiError:
    """A 422 for one body field, shaped like pydantic's (``details`` a list of fields)."""
    fields = [{"loc": ["body", field], "type": "value_error", "reason": reason}]
    return ApiError(422, "validation_error", reason, fields)


def _response(request: Request, status: int, code: str, *, reason: str | None = None,
              details: dict[str, Any] | list[Any] | None = None,
              headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    extra: dict[str, Any] | list[Any] | None = details
    if reason and not isinstance(details, list):
        extra = {**(details or {}), "reason": reason}
    content = body(code, error_message(code, language(request)), extra or None)
    return JSONResponse(content, status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
    422: "validation_error", 429: "rate_limited",
}  # fmt: skip

_SCALARS = (str, int, float, bool)


def _field(error: dict[str, Any]) -> dict[str, Any]:
    """One invalid input: where and a machine code, with numeric limits (``max_length``)
    and, for our own validators, their reason; never pydantic's text or the input."""
    out: dict[str, Any] = {"loc": [str(p) for p in error.get("loc", ())],
                           "type": str(error.get("type", "invalid"))}  # fmt: skip
    ctx = error.get("ctx") or {}
    limits = {k: v for k, v in ctx.items() if k != "error" and isinstance(v, _SCALARS)}
    if limits:
        out["limits"] = limits
    if out["type"] == "value_error" and isinstance(ctx.get("error"), ValueError):
        out["reason"] = str(ctx["error"])  # raised by our validators (e.g. check_timezone)
    return out


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into :class:`ErrorBody` responses."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        details = exc.details if isinstance(exc.details, dict | list) else None
        return _response(request, exc.status, exc.code, reason=exc.message, details=details)

    @app.exception_handler(RateLimited)
    async def _limited(request: Request, exc: RateLimited) -> JSONResponse:
        retry = str(max(1, round(exc.retry_after_s)))
        return _response(request, 429, "rate_limited",
                         details={"retry_after_s": round(exc.retry_after_s, 1)},
                         headers={"Retry-After": retry})  # fmt: skip

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy) -> JSONResponse:
        retry = str(max(1, round(exc.retry_after_s)))
        return _response(request, 503, "busy", details={"retry_after_s": exc.retry_after_s},
                         headers={"Retry-After": retry})  # fmt: skip

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> JSONResponse:
        return _response(request, 401, "unauthorized", reason=str(exc))

    @app.exception_handler(NotFound)
    async def _missing(request: Request, exc: NotFound) -> JSONResponse:
        return _response(request, 404, "not_found", reason=_ours(exc))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        # the store's text names constraints and, on PostgreSQL, other rows' keys
        log.info("conflict: %s", exc)
        return _response(request, 409, "conflict", reason=_ours(exc))

    @app.exception_handler(TransitionError)
    async def _transition(request: Request, exc: TransitionError) -> JSONResponse:
        return _response(request, 409, "invalid_transition", reason=str(exc))

    @app.exception_handler(OrderTransitionError)
    async def _order_transition(request: Request, exc: OrderTransitionError) -> JSONResponse:
        return _response(request, 409, "invalid_transition", reason=str(exc))

    @app.exception_handler(RuleError)
    async def _rule(request: Request, exc: RuleError) -> JSONResponse:
        return _response(request, 422, "invalid_rule", reason=str(exc))

    @app.exception_handler(PolicyError)
    async def _policy(request: Request, exc: PolicyError) -> JSONResponse:
        return _response(request, 422, "invalid_policy", reason=str(exc))

    @app.exception_handler(RegistryError)
    async def _registry(request: Request, exc: RegistryError) -> JSONResponse:
        return _response(request, 422, "invalid_registry_input", reason=str(exc))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        log.warning("store error on %s %s: %s", request.method, request.url.path, exc)
        if isinstance(exc, StoreUnavailable):
            return _response(request, 503, "unavailable", headers={"Retry-After": "5"})
        return _response(request, 500, "internal")

    @app.exception_handler(CarehubError)
    async def _other(request: Request, exc: CarehubError) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method,
                  request.url.path, exc_info=exc)  # fmt: skip
        return _response(request, 500, "internal")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _response(request, 422, "validation_error",
                         details=[_field(e) for e in exc.errors()])  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers) if exc.headers else None
        return _response(request, exc.status_code, code, headers=headers)


def _ours(exc: CarehubError) -> str | None:
    """The message of an error we raised ourselves; None for one converted from a driver
    (its text is the driver's, kept in the log)."""
    if exc.__cause__ is not None or exc.__context__ is not None:
        return None
    return str(exc)
