"""One APIRouter per resource, all under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.errors import ERROR_RESPONSES


def api_router(prefix: str, tag: str) -> APIRouter:
    """A router whose routes all document the common error body."""
    return APIRouter(prefix=f"/api{prefix}", tags=[tag], responses=ERROR_RESPONSES)
