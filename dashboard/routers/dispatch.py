"""Dispatching an order (定位派单): the proposed worker, and assigning it — confirming the
proposal or overriding it with another worker. An override is checked by the same rule as
the proposal (skills, on duty, free for the visit plus travel) and refused when it fails,
unless ``force`` is set; the audit step records who overrode, the reason and the check."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from pydantic import Field

from dashboard import queries
from dashboard.deps import Caller, CtxDep, allowed
from dashboard.dispatching import check, move, order_json, proposal_json, propose, propose_all
from dashboard.errors import ApiError, not_found
from dashboard.routers import ApiModel, api_router
from dashboard.routers.orders import announce, visible_order
from hub.dispatch.planner import Proposal
from hub.errors import NotFound

router = api_router("/orders", "dispatch")


class StationIn(ApiModel):
    station_id: str = Field(min_length=1, max_length=64)


class AssignIn(ApiModel):
    worker_id: str | None = Field(None, description="None: take the proposed worker")
    force: bool = Field(False, description="Assign even when the check refuses the worker")


@router.post("/propose", summary="Proposals for every open order of a station at once")
async def propose_station(
    body: StationIn, ctx: CtxDep, caller: Annotated[Caller, allowed("orders.write")]
) -> dict[str, Any]:
    """Planned as one batch: no worker is proposed for two orders at the same time. Nothing
    is assigned; confirm each with ``POST /api/orders/{id}/assign``."""

    def work() -> dict[str, Any]:
        queries.station(ctx.store, caller.scope, body.station_id)
        found = propose_all(ctx.store, body.station_id, now=ctx.clock(),
                            emergency_late_s=ctx.settings.emergency_late_s)  # fmt: skip
        return {"proposals": {oid: proposal_json(ctx.store, p) for oid, p in found.items()}}

    return await asyncio.to_thread(work)


@router.get("/{order_id}/proposal", summary="The best worker for an order, if any")
async def proposal(
    order_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("orders.write")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        o = visible_order(ctx, caller, order_id)
        p = propose(ctx.store, o, now=ctx.clock(),
                    emergency_late_s=ctx.settings.emergency_late_s)  # fmt: skip
        return {"order_id": o.id, "proposal": proposal_json(ctx.store, p)}

    return await asyncio.to_thread(work)


@router.post("/{order_id}/assign", summary="Confirm the proposed worker, or override it")
async def assign(
    order_id: str, body: AssignIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("orders.write")],
) -> dict[str, Any]:  # fmt: skip
    def work() -> dict[str, Any]:
        o = visible_order(ctx, caller, order_id)
        now, late = ctx.clock(), ctx.settings.emergency_late_s
        detail: dict[str, Any] = {}
        if body.worker_id is None:
            p = propose(ctx.store, o, now=now, emergency_late_s=late)
            if p is None:
                raise ApiError(409, "no_worker", "no care worker is free, skilled and near")
            worker_id = p.worker_id
            detail = {"proposed": True, "travel_s": round(p.travel_s)}
        else:
            try:
                w = ctx.store.get_worker(body.worker_id)
            except NotFound:
                w = None
            if w is None or w.station_id != o.station_id or not w.active:
                raise not_found(f"care worker {body.worker_id!r}")
            result = check(ctx.store, o, w, now=now, emergency_late_s=late)
            if not isinstance(result, Proposal) and not body.force:
                raise ApiError(409, "worker_unavailable", f"the worker cannot take it: {result}",
                               {"why": result})  # fmt: skip
            worker_id = w.id
            detail = {"override": True, "forced": body.force, "check": (
                "ok" if isinstance(result, Proposal) else result)}  # fmt: skip
            if isinstance(result, Proposal):
                detail["travel_s"] = round(result.travel_s)
        o = move(ctx.store, o, "assigned", actor=caller.actor, at=now, worker_id=worker_id,
                 detail=detail)  # fmt: skip
        return order_json(ctx.store, o)

    data = await asyncio.to_thread(work)
    announce(ctx, data)
    return data
