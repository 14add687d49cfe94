"""Districts, stations (with their time zone) and each station's escalation policy."""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, replace
from typing import Annotated, Any

from fastapi import Query
from pydantic import Field, field_validator

from alerts.escalation import default_policy, parse_policy
from dashboard import queries
from dashboard.deps import Caller, CtxDep, allowed, registry_changed
from dashboard.errors import invalid, not_found
from dashboard.routers import ApiModel, api_router
from hub.registry.provisioning import check_id
from hub.store.base import Station
from hub.timezones import check_timezone

router = api_router("", "stations")
ZONE_HELP = "IANA time zone, e.g. Asia/Shanghai; null: the hub's CAREHUB_DEFAULT_TIMEZONE."


def _zone(value: str | None) -> str | None:
    return None if value is None else check_timezone(value)


class StationIn(ApiModel):
    id: str = Field(min_length=1, max_length=64)
    district_id: str
    name: str = Field(min_length=1, max_length=200)
    kind: str = "service_station"
    address: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    timezone: str | None = Field(None, max_length=64, description=ZONE_HELP)

    _known_zone = field_validator("timezone")(_zone)


class StationPatch(ApiModel):
    """Fields to change; a field left out keeps its value."""

    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    timezone: str | None = Field(None, max_length=64, description=ZONE_HELP)

    _known_zone = field_validator("timezone")(_zone)


@router.get("/districts", summary="Districts with at least one station you can see")
async def list_districts(
    ctx: CtxDep, caller: Annotated[Caller, allowed("stations.read")]
) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        mine = {s.district_id for s in queries.stations(ctx.store, caller.scope)}
        return [asdict(d) for d in ctx.store.list_districts() if d.id in mine]

    return await asyncio.to_thread(work)


@router.get("/stations", summary="Stations you can see")
async def list_stations(
    ctx: CtxDep, caller: Annotated[Caller, allowed("stations.read")],
    district_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    rows = await asyncio.to_thread(queries.stations, ctx.store, caller.scope, district_id)
    return [asdict(s) for s in rows]


@router.get("/stations/{station_id}", summary="One station")
async def get_station(
    station_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("stations.read")]
) -> dict[str, Any]:
    return asdict(await asyncio.to_thread(queries.station, ctx.store, caller.scope, station_id))


@router.post("/stations", status_code=201, summary="Create a station in your district")
async def create_station(
    body: StationIn, ctx: CtxDep, caller: Annotated[Caller, allowed("stations.write")]
) -> dict[str, Any]:
    check_id(body.id, "station id")

    def work() -> Station:
        ctx.store.list_districts()  # the district must exist: the store's foreign key says so
        s = caller.scope
        if s.role == "district_admin" and caller.principal.user.scope_id != body.district_id:
            raise not_found(f"district {body.district_id!r}")  # not theirs: as if missing
        if s.role == "city_admin" and caller.principal.user.scope_id is not None:
            cities = {d.city_id for d in ctx.store.list_districts() if d.id == body.district_id}
            if caller.principal.user.scope_id not in cities:
                raise not_found(f"district {body.district_id!r}")
        station = Station(**body.model_dump())
        ctx.store.add_station(station)
        return station

    added = await asyncio.to_thread(work)
    await registry_changed(ctx)
    return asdict(added)


@router.patch("/stations/{station_id}", summary="Rename a station, move it, set its time zone")
async def update_station(
    station_id: str, body: StationPatch, ctx: CtxDep,
    caller: Annotated[Caller, allowed("stations.write")],
) -> dict[str, Any]:  # fmt: skip
    changes = body.model_dump(include=body.model_fields_set)
    if changes.get("name", "") is None:
        changes.pop("name")  # a station keeps a name

    def work() -> Station:
        station = replace(queries.station(ctx.store, caller.scope, station_id), **changes)
        ctx.store.update_station(station)
        return station

    updated = await asyncio.to_thread(work)
    await registry_changed(ctx)
    return asdict(updated)


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


@router.get("/stations/{station_id}/policy", summary="The station's escalation policy")
async def get_policy(
    station_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("policies.read")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        queries.station(ctx.store, caller.scope, station_id)
        policies = ctx.store.escalation_policies()
        # without its own policy a station follows the default: shown, so it can be edited
        stored = policies.get(station_id)
        policy = stored if stored is not None else default_policy(station_id).model_dump()
        return {"station_id": station_id, "policy": policy, "default": stored is None}

    return await asyncio.to_thread(work)


@router.put("/stations/{station_id}/policy", summary="Set the station's escalation policy")
async def set_policy(
    station_id: str, body: dict[str, Any], ctx: CtxDep,
    caller: Annotated[Caller, allowed("policies.write")],
) -> dict[str, Any]:  # fmt: skip
    await asyncio.to_thread(queries.station, ctx.store, caller.scope, station_id)
    policy = parse_policy({**body, "station_id": station_id})
    if not _finite(policy.model_dump()):  # pydantic reads "inf" and "nan" strings as floats
        raise invalid("policy", "every number of a policy is finite")
    await ctx.hub.alerts.call(ctx.hub.alert_engine.set_policy, policy, ctx.clock())
    return {"station_id": station_id, "policy": policy.model_dump(), "default": False}
