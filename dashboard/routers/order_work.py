"""The care worker's steps on an order, from their phone: accept, arrive (a check-in with
the phone's position, refused farther than ``CAREHUB_CHECKIN_RADIUS_M`` from the
resident's address) and done with notes. Only the worker the order is assigned to may."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from pydantic import Field

from dashboard.deps import Caller, Context, CtxDep, allowed
from dashboard.dispatching import move, order_json, place
from dashboard.errors import ApiError, forbidden
from dashboard.routers import ApiModel, api_router
from dashboard.routers.orders import announce, visible_order
from hub.dispatch.geo import haversine_m
from hub.store.base import Order, OrderStatus

router = api_router("/orders", "order work")


class ArriveIn(ApiModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class DoneIn(ApiModel):
    notes: str | None = Field(None, max_length=2000)


def _own(ctx: Context, caller: Caller, oid: str) -> Order:
    o = visible_order(ctx, caller, oid)
    acting = {w.id for w in ctx.store.list_workers(user_id=caller.user_id)}
    if o.worker_id is None or o.worker_id not in acting:
        raise forbidden("this order is not assigned to you")
    return o


async def _step(
    ctx: Context, caller: Caller, oid: str, to: OrderStatus,
    position: ArriveIn | None = None, notes: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    def work() -> dict[str, Any]:
        o = _own(ctx, caller, oid)
        at = ctx.clock()
        detail: dict[str, Any] = {}
        pos = None
        if position is not None:
            lat, lon = place(ctx.store.get_resident(o.resident_id))
            dist = float(haversine_m(position.lat, position.lon, lat, lon))
            radius = ctx.settings.checkin_radius_m
            if dist > radius:
                raise ApiError(422, "too_far",
                               f"{dist:.0f} m from the resident's address (at most {radius:.0f})",
                               {"distance_m": round(dist), "radius_m": radius})  # fmt: skip
            pos = (position.lat, position.lon)
            detail["distance_m"] = round(dist)
            ctx.store.set_worker_position(o.worker_id or "", position.lat, position.lon, at)
        o = move(ctx.store, o, to, actor=caller.actor, at=at, position=pos, notes=notes,
                 detail=detail)  # fmt: skip
        return order_json(ctx.store, o)

    data = await asyncio.to_thread(work)
    announce(ctx, data)
    return data


@router.post("/{order_id}/accept", summary="The assigned worker accepts the order")
async def accept(
    order_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("orders.work")]
) -> dict[str, Any]:
    return await _step(ctx, caller, order_id, "accepted")


@router.post("/{order_id}/arrive", summary="Check in at the resident's home with a position")
async def arrive(
    order_id: str, body: ArriveIn, ctx: CtxDep, caller: Annotated[Caller, allowed("orders.work")]
) -> dict[str, Any]:
    return await _step(ctx, caller, order_id, "arrived", position=body)


@router.post("/{order_id}/done", summary="The service is done, with notes")
async def done(
    order_id: str, body: DoneIn, ctx: CtxDep, caller: Annotated[Caller, allowed("orders.work")]
) -> dict[str, Any]:
    return await _step(ctx, caller, order_id, "done", notes=body.notes)
