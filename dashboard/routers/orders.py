"""Service orders: a service of a station's catalogue for a resident at a time. List and
read (with the audit trail), create, cancel, and the one-click emergency visit from an
alert. Assignment is in :mod:`dashboard.routers.dispatch`, the worker's steps in
:mod:`dashboard.routers.order_work`; every change is pushed to the station's consoles
(WebSocket message ``order``)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Query, Response
from pydantic import Field

from dashboard import queries
from dashboard.deps import Caller, Context, CtxDep, allowed
from dashboard.dispatching import move, order_id, order_json, place
from dashboard.errors import ApiError, invalid, not_found
from dashboard.routers import ApiModel, api_router
from hub.errors import Conflict, NotFound
from hub.store.base import ORDER_STATUSES, Order, OrderEvent, Service

router = api_router("/orders", "orders")


class OrderIn(ApiModel):
    service_id: str = Field(min_length=1, max_length=64)
    resident_id: str = Field(min_length=1, max_length=64)
    scheduled_at: float = Field(gt=0, description="When the service should start (epoch s)")
    notes: str | None = Field(None, max_length=2000)


class CancelIn(ApiModel):
    reason: str = Field(min_length=1, max_length=500)


def announce(ctx: Context, data: dict[str, Any]) -> None:
    """Push an order's new state to the consoles of its station (call on the loop)."""
    if ctx.broadcaster is not None:
        ctx.broadcaster.publish("order", {"order": data}, station_id=data["station_id"],
                                resident_id=data["resident_id"])  # fmt: skip


def visible_order(ctx: Context, caller: Caller, oid: str) -> Order:
    try:
        o = ctx.store.get_order(oid)
    except NotFound:
        o = None
    if o is None or not caller.scope.sees_station(o.station_id):
        raise not_found(f"order {oid!r}")
    return o


def _new(ctx: Context, caller: Caller, service: Service, resident_id: str, at: float,
         notes: str | None, alert_id: str | None = None) -> Order:  # fmt: skip
    now = ctx.clock()
    o = Order(order_id(), service.station_id, resident_id, service.id, service.kind, at,
              service.duration_min, "open", service.price_cents, service.subsidy_cents,
              caller.actor, now, now, alert_id=alert_id, notes=notes)  # fmt: skip
    detail = {"alert_id": alert_id} if alert_id else {}
    ctx.store.add_order(o, OrderEvent(o.id, now, caller.actor, "open", detail=detail))
    return o


@router.get("", summary="Orders of the stations you can see, by scheduled time")
async def list_orders(
    ctx: CtxDep, caller: Annotated[Caller, allowed("orders.read")],
    station_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[list[str] | None, Query(max_length=6)] = None,
    since: float | None = None, until: float | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:  # fmt: skip
    for s in status or []:
        if s not in ORDER_STATUSES:
            raise ApiError(422, "validation_error", f"unknown status {s!r}")

    def work() -> list[dict[str, Any]]:
        scope = caller.scope
        stations: list[str] | None
        if station_id is not None:
            stations = [station_id] if scope.sees_station(station_id) else []
        else:
            stations = None if scope.station_ids is None else sorted(scope.station_ids)
        if scope.resident_ids is not None or scope.vendor is not None:
            stations = []  # orders are the care team's (the permission already says so)
        rows = ctx.store.list_orders(station_ids=stations, statuses=status, since=since,
                                     until=until, limit=limit)  # fmt: skip
        return [order_json(ctx.store, o) for o in rows]

    return await asyncio.to_thread(work)


@router.post("", status_code=201, summary="Order a service for a resident at a time")
async def create_order(
    body: OrderIn, ctx: CtxDep, caller: Annotated[Caller, allowed("orders.write")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        r = queries.resident(ctx.store, caller.scope, body.resident_id)
        try:
            service = ctx.store.get_service(body.service_id)
        except NotFound:
            service = None
        if service is None or service.station_id != r.station_id or not service.active:
            raise invalid("service_id", "not an active service of the resident's station")
        place(r)
        return order_json(ctx.store, _new(ctx, caller, service, r.id, body.scheduled_at,
                                          body.notes))  # fmt: skip

    data = await asyncio.to_thread(work)
    announce(ctx, data)
    return data


@router.post("/from-alert/{alert_id}", summary="One click: an emergency visit for an alert")
async def emergency_visit(
    alert_id: str, response: Response, ctx: CtxDep,
    caller: Annotated[Caller, allowed("orders.write")],
) -> dict[str, Any]:  # fmt: skip
    """Creates an ``emergency_visit`` order for the alert's resident, starting now, with the
    station's emergency-visit service. Idempotent: the alert's existing order is returned
    (200) instead of a second one (201 when created)."""

    def work() -> tuple[dict[str, Any], bool]:
        alert = queries.alert(ctx.store, caller.scope, alert_id)
        existing = ctx.store.order_for_alert(alert.id)
        if existing is not None:
            return order_json(ctx.store, existing), False
        if alert.resident_id is None or alert.station_id is None:
            raise ApiError(422, "no_resident", "this alert concerns no resident")
        r = queries.resident(ctx.store, caller.scope, alert.resident_id)
        services = [s for s in ctx.store.list_services(r.station_id)
                    if s.kind == "emergency_visit" and s.active]  # fmt: skip
        if not services:
            raise ApiError(409, "no_emergency_service",
                           f"station {r.station_id!r} has no emergency visit service")  # fmt: skip
        place(r)
        try:
            o = _new(ctx, caller, services[0], r.id, ctx.clock(), None, alert.id)
        except Conflict:  # a second click raced the first: answer with its order
            raced = ctx.store.order_for_alert(alert.id)
            if raced is None:
                raise
            return order_json(ctx.store, raced), False
        return order_json(ctx.store, o), True

    data, created = await asyncio.to_thread(work)
    response.status_code = 201 if created else 200
    if created:
        announce(ctx, data)
    return data


@router.get("/{order_id}", summary="One order with its audit trail")
async def get_order(
    order_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("orders.read")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        o = visible_order(ctx, caller, order_id)
        events = [asdict(e) for e in ctx.store.order_events(o.id)]
        return order_json(ctx.store, o) | {"events": events}

    return await asyncio.to_thread(work)


@router.post("/{order_id}/cancel", summary="Cancel an order (before the worker arrives)")
async def cancel_order(
    order_id: str, body: CancelIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("orders.write")],
) -> dict[str, Any]:  # fmt: skip
    def work() -> dict[str, Any]:
        o = visible_order(ctx, caller, order_id)
        o = move(ctx.store, o, "cancelled", actor=caller.actor, at=ctx.clock(),
                 detail={"reason": body.reason})  # fmt: skip
        return order_json(ctx.store, o)

    data = await asyncio.to_thread(work)
    announce(ctx, data)
    return data
