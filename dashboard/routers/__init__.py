"""One APIRouter per resource, all under ``/api``; request bodies are strict JSON.

Python's ``json`` module reads ``NaN``, ``Infinity`` and ``1e999`` (which overflows to
infinity) although JSON has no such numbers, and pydantic's float fields accept them (and
the strings ``"nan"`` and ``"inf"``) by default: a silence could end at ``Infinity``. Every
route here parses bodies with :func:`strict_loads`, and body models derive from
:class:`ApiModel`, which refuses non-finite floats.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict

from dashboard.errors import ERROR_RESPONSES


def _no_constant(name: str) -> NoReturn:
    raise json.JSONDecodeError(f"{name} is not a JSON number", name, 0)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise json.JSONDecodeError("number out of range", text, 0)
    return value


def strict_loads(data: bytes | str) -> Any:
    """``json.loads`` refusing what JSON does not have (NaN, Infinity, overflowing numbers).

    >>> strict_loads('{"end": 1e3}')
    {'end': 1000.0}
    >>> strict_loads('{"end": Infinity}')
    Traceback (most recent call last):
    ...
    json.decoder.JSONDecodeError: Infinity is not a JSON number: line 1 column 1 (char 0)
    """
    return json.loads(data, parse_constant=_no_constant, parse_float=_finite)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read with :func:`strict_loads` (a 422 ``json_invalid``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


class ApiModel(BaseModel):
    """Base of request bodies: no NaN or infinite floats."""

    model_config = ConfigDict(allow_inf_nan=False)


def api_router(prefix: str, tag: str) -> APIRouter:
    """A router whose routes read strict JSON and document the common error body."""
    return APIRouter(prefix=f"/api{prefix}", tags=[tag], responses=ERROR_RESPONSES,
                     route_class=StrictJsonRoute)  # fmt: skip
