"""One error body for every failure of the API::

    {"error": {"code": "not_found", "message": "resident 'r-9'", "details": null}}

``code`` is stable and machine-readable; ``message`` is for people (English; the UI shows
its own translated text per code). Our exception tree is mapped here, so routes raise
:class:`ApiError` or a :class:`hub.errors.CarehubError` and never build responses.

A 500 says only ``internal error``: what failed goes to the log, because a store error
quotes its database driver (table and constraint names, sometimes the data itself), which
is for operators, never for a browser.
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
from dashboard.auth import AuthError, RateLimited
from hub.errors import CarehubError, Conflict, NotFound, RegistryError

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
        (422, "Invalid input"), (429, "Too many requests"),
    )
}  # fmt: skip
"""Documented on every route of the OpenAPI document."""


class ApiError(CarehubError):
    """A request the API refuses, with its HTTP status and stable error ``code``."""

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


def body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _response(status: int, code: str, message: str, details: Any = None,
              headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    return JSONResponse(body(code, message, details), status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media",
    422: "validation_error", 429: "rate_limited",
}  # fmt: skip


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into :class:`ErrorBody` responses."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return _response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RateLimited)
    async def _limited(_: Request, exc: RateLimited) -> JSONResponse:
        retry = str(max(1, round(exc.retry_after_s)))
        return _response(429, "rate_limited", str(exc), {"retry_after_s": exc.retry_after_s},
                         headers={"Retry-After": retry})  # fmt: skip

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        return _response(401, "unauthorized", str(exc))

    @app.exception_handler(NotFound)
    async def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return _response(404, "not_found", str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return _response(409, "conflict", str(exc))

    @app.exception_handler(TransitionError)
    async def _transition(_: Request, exc: TransitionError) -> JSONResponse:
        return _response(409, "invalid_transition", str(exc))

    @app.exception_handler(RuleError)
    async def _rule(_: Request, exc: RuleError) -> JSONResponse:
        return _response(422, "invalid_rule", str(exc))

    @app.exception_handler(PolicyError)
    async def _policy(_: Request, exc: PolicyError) -> JSONResponse:
        return _response(422, "invalid_policy", str(exc))

    @app.exception_handler(RegistryError)
    async def _registry(_: Request, exc: RegistryError) -> JSONResponse:
        return _response(422, "invalid_registry_input", str(exc))

    @app.exception_handler(CarehubError)
    async def _other(request: Request, exc: CarehubError) -> JSONResponse:
        # the exception's text stays in the log (see the module docstring)
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _response(500, "internal", "internal error")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return _response(422, "validation_error", "invalid input", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers) if exc.headers else None
        return _response(exc.status_code, code, str(exc.detail), headers=headers)
