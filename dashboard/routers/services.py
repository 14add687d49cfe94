"""The service catalogue of each station: meal delivery, bathing, check-ups, cleaning,
companionship, emergency visits, each with its duration, price, subsidy (integer cents)
and the skills it needs."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

from dashboard import queries
from dashboard.deps import Caller, CtxDep, allowed
from dashboard.errors import not_found
from dashboard.routers import ApiModel, api_router
from hub.errors import NotFound
from hub.registry.provisioning import check_id
from hub.store.base import Service, ServiceKind

router = api_router("/services", "services")

Skill = Annotated[str, Field(min_length=1, max_length=40)]


class ServiceIn(ApiModel):
    id: str = Field(min_length=1, max_length=64)
    station_id: str
    kind: ServiceKind
    name: str = Field(min_length=1, max_length=200)
    duration_min: int = Field(gt=0, le=1440)
    price_cents: int = Field(ge=0, le=100_000_000, description="Price in cents (fen)")
    subsidy_cents: int = Field(0, ge=0, le=100_000_000, description="Subsidy in cents")
    skills: list[Skill] = Field(default_factory=list, max_length=20)
    active: bool = True


class ServicePatch(ApiModel):
    """Unset fields stay as they are; ``active: false`` withdraws a service."""

    kind: ServiceKind | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    duration_min: int | None = Field(None, gt=0, le=1440)
    price_cents: int | None = Field(None, ge=0, le=100_000_000)
    subsidy_cents: int | None = Field(None, ge=0, le=100_000_000)
    skills: list[Skill] | None = Field(None, max_length=20)
    active: bool | None = None


@router.get("", summary="Services of the stations you can see")
async def list_services(
    ctx: CtxDep, caller: Annotated[Caller, allowed("services.read")],
    station_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    def work() -> list[dict[str, Any]]:
        rows = ctx.store.list_services(station_id)
        return [asdict(s) for s in rows if caller.scope.sees_station(s.station_id)]

    return await asyncio.to_thread(work)


@router.post("", status_code=201, summary="Add a service to a station's catalogue")
async def create_service(
    body: ServiceIn, ctx: CtxDep, caller: Annotated[Caller, allowed("services.write")]
) -> dict[str, Any]:
    check_id(body.id, "service id")

    def work() -> Service:
        queries.station(ctx.store, caller.scope, body.station_id)
        data = body.model_dump() | {"skills": tuple(body.skills), "created_at": ctx.clock()}
        s = Service(**data)
        ctx.store.add_service(s)
        return s

    return asdict(await asyncio.to_thread(work))


@router.patch("/{service_id}", summary="Change a service: price, subsidy, duration, skills...")
async def update_service(
    service_id: str, body: ServicePatch, ctx: CtxDep,
    caller: Annotated[Caller, allowed("services.write")],
) -> dict[str, Any]:  # fmt: skip
    def work() -> Service:
        try:
            s = ctx.store.get_service(service_id)
        except NotFound:
            s = None
        if s is None or not caller.scope.sees_station(s.station_id):
            raise not_found(f"service {service_id!r}")
        changes = body.model_dump(exclude_unset=True, exclude_none=True)
        if "skills" in changes:
            changes["skills"] = tuple(changes["skills"])
        s = replace(s, **changes)
        ctx.store.update_service(s)
        return s

    return asdict(await asyncio.to_thread(work))
