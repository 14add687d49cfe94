"""Care workers: their skills, weekly working hours (in the station's time zone) and the
position their phone reports; ``/workers/me`` is the worker's own day (the phone page).

A care worker is a record of the station, linked to the dashboard user who acts as them (a
``station_staff`` or ``station_supervisor`` of the same station): the phone logs in as
that user. Positions come over REST only; see docs/services.md for why not MQTT.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Query
from pydantic import Field, field_validator

from dashboard import queries
from dashboard.deps import Caller, Context, CtxDep, allowed
from dashboard.dispatching import order_json
from dashboard.errors import invalid, not_found
from dashboard.routers import ApiModel, api_router
from dashboard.scope import STATION_ROLES
from hub.dispatch.hours import Hours, check_hours
from hub.errors import NotFound
from hub.registry.provisioning import check_id
from hub.store.base import CareWorker
from hub.timezones import DEFAULT_TIMEZONE

router = api_router("/workers", "workers")

Skill = Annotated[str, Field(min_length=1, max_length=40)]


class _Hours(ApiModel):
    @field_validator("hours", check_fields=False)
    @classmethod
    def _hours(cls, value: Hours | None) -> Hours | None:
        return None if value is None else check_hours(value)


class WorkerIn(_Hours):
    id: str = Field(min_length=1, max_length=64)
    station_id: str
    name: str = Field(min_length=1, max_length=200)
    user_id: str | None = Field(None, description="The dashboard user who acts as the worker")
    phone: str | None = Field(None, max_length=40)
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    hours: Hours = Field(default_factory=dict, description='{"0": [["08:00", "17:00"]], ...}')
    active: bool = True


class WorkerPatch(_Hours):
    name: str | None = Field(None, min_length=1, max_length=200)
    user_id: str | None = None
    phone: str | None = Field(None, max_length=40)
    skills: list[Skill] | None = Field(None, max_length=20)
    hours: Hours | None = None
    active: bool | None = None


class PositionIn(ApiModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: float | None = Field(None, description="When it was measured (epoch s; default now)")


def _check_user(ctx: Context, user_id: str | None, station_id: str) -> None:
    """The linked user must be of the worker's station, in a station role."""
    if user_id is None:
        return
    try:
        user = ctx.store.get_user(user_id)
    except NotFound:
        user = None
    if user is None or user.role not in STATION_ROLES or user.scope_id != station_id:
        raise invalid("user_id", "not a staff member of the worker's station")


def _visible(ctx: Context, caller: Caller, worker_id: str) -> CareWorker:
    try:
        w = ctx.store.get_worker(worker_id)
    except NotFound:
        w = None
    if w is None or not caller.scope.sees_station(w.station_id):
        raise not_found(f"care worker {worker_id!r}")
    return w


def mine(ctx: Context, caller: Caller) -> CareWorker:
    """The worker the caller acts as (404 when none)."""
    found = ctx.store.list_workers(user_id=caller.user_id)
    if not found:
        raise not_found("no care worker is linked to your user")
    return found[0]


@router.get("", summary="Care workers of the stations you can see, with positions")
async def list_workers(
    ctx: CtxDep, caller: Annotated[Caller, allowed("workers.read")],
    station_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    def work() -> list[dict[str, Any]]:
        rows = ctx.store.list_workers(station_id)
        return [asdict(w) for w in rows if caller.scope.sees_station(w.station_id)]

    return await asyncio.to_thread(work)


@router.post("", status_code=201, summary="Add a care worker to a station")
async def create_worker(
    body: WorkerIn, ctx: CtxDep, caller: Annotated[Caller, allowed("workers.write")]
) -> dict[str, Any]:
    check_id(body.id, "worker id")

    def work() -> CareWorker:
        queries.station(ctx.store, caller.scope, body.station_id)
        _check_user(ctx, body.user_id, body.station_id)
        data = body.model_dump() | {"skills": tuple(body.skills), "created_at": ctx.clock()}
        w = CareWorker(**data)
        ctx.store.add_worker(w)
        return w

    return asdict(await asyncio.to_thread(work))


@router.get("/me", summary="The care worker you act as, and your orders of today")
async def my_day(ctx: CtxDep, caller: Annotated[Caller, allowed("workers.self")]) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        w = mine(ctx, caller)
        zone = ZoneInfo(ctx.store.get_station(w.station_id).timezone or DEFAULT_TIMEZONE)
        day = datetime.fromtimestamp(ctx.clock(), zone).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        since, until = day.timestamp(), (day + timedelta(days=1)).timestamp()
        rows = ctx.store.list_orders(worker_id=w.id, since=since, until=until)
        return asdict(w) | {"orders": [order_json(ctx.store, o) for o in rows]}

    return await asyncio.to_thread(work)


@router.patch("/{worker_id}", summary="Change a care worker: skills, hours, linked user...")
async def update_worker(
    worker_id: str, body: WorkerPatch, ctx: CtxDep,
    caller: Annotated[Caller, allowed("workers.write")],
) -> dict[str, Any]:  # fmt: skip
    def work() -> CareWorker:
        w = _visible(ctx, caller, worker_id)
        changes = body.model_dump(exclude_unset=True)
        if "user_id" in changes:
            _check_user(ctx, changes["user_id"], w.station_id)
        changes = {k: v for k, v in changes.items() if v is not None or k == "user_id"}
        if "skills" in changes:
            changes["skills"] = tuple(changes["skills"])
        w = replace(w, **changes)
        ctx.store.update_worker(w)
        return w

    return asdict(await asyncio.to_thread(work))


@router.put("/{worker_id}/position", summary="The worker's phone reports where it is")
async def report_position(
    worker_id: str, body: PositionIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("workers.self")],
) -> dict[str, Any]:  # fmt: skip
    def work() -> dict[str, Any]:
        w = mine(ctx, caller)
        if w.id != worker_id:
            raise not_found(f"care worker {worker_id!r}")  # only your own position
        at = body.at if body.at is not None else ctx.clock()
        if at > ctx.clock() + 60:
            raise invalid("at", "a position cannot be measured in the future")
        kept = ctx.store.set_worker_position(w.id, body.lat, body.lon, at)
        return {"ok": True, "kept": kept}

    return await asyncio.to_thread(work)
