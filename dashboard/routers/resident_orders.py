"""A resident's completed services, as the family page lists them beside the visits: what
was done, by whom and when, with the ratings the caller may see (families: their own), so
each can be rated (``PUT /api/ratings/order/{id}``)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Query

from dashboard import queries, visit_views
from dashboard.deps import Caller, CtxDep, allowed
from dashboard.routers import api_router
from hub.errors import NotFound
from hub.store.base import Order, Store

router = api_router("/residents", "ratings")


def _names(store: Store, orders: list[Order]) -> tuple[dict[str, str], dict[str, str]]:
    """Service and worker names of the orders (ids that vanished stay unnamed)."""
    services: dict[str, str] = {}
    workers: dict[str, str] = {}
    for o in orders:
        if o.service_id not in services:
            with contextlib.suppress(NotFound):
                services[o.service_id] = store.get_service(o.service_id).name
        if o.worker_id and o.worker_id not in workers:
            with contextlib.suppress(NotFound):
                workers[o.worker_id] = store.get_worker(o.worker_id).name
    return services, workers


@router.get(
    "/{resident_id}/completed-orders",
    summary="A resident's latest completed services, with the ratings you can see",
)
async def completed_orders(
    resident_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("ratings.read")],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> dict[str, Any]:  # fmt: skip
    """Done orders, the latest scheduled first. Each carries its kind, service and worker
    names, when it was scheduled and finished (``done_at``), and ``ratings``; prices and
    the workers' notes stay with the station."""
    scope = caller.scope

    def work() -> dict[str, Any]:
        r = queries.resident(ctx.store, scope, resident_id)  # NotFound when not visible
        orders = ctx.store.list_orders(
            station_ids=[r.station_id], resident_id=r.id, statuses=["done"],
            newest_first=True, limit=limit,
        )  # fmt: skip
        ratings: dict[str, list[dict[str, Any]]] = {}
        if orders:
            for rating in ctx.store.list_ratings(
                subject_kind="order", subject_ids=[o.id for o in orders],
                rater=visit_views.rater_filter(scope), limit=10 * len(orders),
            ):  # fmt: skip
                ratings.setdefault(rating.subject_id, []).append(asdict(rating))
        services, workers = _names(ctx.store, orders)
        items = [{
            "id": o.id, "kind": o.kind, "resident_id": o.resident_id,
            "station_id": o.station_id, "service_name": services.get(o.service_id),
            "worker_name": workers.get(o.worker_id or ""), "scheduled_at": o.scheduled_at,
            "done_at": o.updated_at, "ratings": ratings.get(o.id, []),
        } for o in orders]  # fmt: skip
        return {"items": items}

    return await asyncio.to_thread(work)
