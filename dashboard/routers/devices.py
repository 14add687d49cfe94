"""Devices: list with health, detail, provisioning (credentials shown once), devices seen
on the broker but not provisioned (to claim), CSV import, and a vendor's refusals."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, Field

from dashboard import queries
from dashboard.deps import Caller, Context, CtxDep, allowed, registry_changed
from dashboard.errors import forbidden
from dashboard.routers import api_router
from hub.registry.provisioning import Credentials, import_devices, provision_device
from hub.store.base import Device

router = api_router("/devices", "devices")


class DeviceIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    kind: str
    vendor: str | None = None
    model: str | None = None
    resident_id: str | None = None
    gateway_id: str | None = None
    interval_s: float | None = Field(None, gt=0)
    worn_at: Literal["wrist", "waist", "chest", "neck"] | None = Field(
        None, description="Where a wearable is worn; picks the fall detector's model."
    )


class DeviceCsvIn(BaseModel):
    station_id: str
    csv: str = Field(min_length=1, max_length=5_000_000)


def _broker(ctx: Context) -> Any:
    url = getattr(ctx.hub.settings, "broker_admin_url", None)
    if url is None:
        return None
    from hub.broker.admin import SyncBrokerAdmin

    return SyncBrokerAdmin(url.get_secret_value())


def _creds(c: Credentials) -> dict[str, str]:
    return {"device_id": c.device_id, "username": c.username, "password": c.password}


def _health(ctx: Context, devices: list[Device]) -> list[dict[str, Any]]:
    states = {s.device_id: s for s in ctx.store.device_states()}
    latest = ctx.store.latest_telemetry([d.id for d in devices])
    out = []
    for d in devices:
        st = states.get(d.id)
        t = latest.get(d.id)
        out.append(asdict(d) | {
            "online": st.online if st else None,
            "last_seen_at": st.last_seen_at if st else None,
            "clock_offset_s": st.clock_offset_s if st else None,
            "telemetry_gaps": st.telemetry_gaps if st else 0,
            "battery": t.values.get("battery") if t else None,
        })  # fmt: skip
    return out


@router.get("", summary="Devices you can see, with health (paginated)")
async def list_devices(
    ctx: CtxDep, caller: Annotated[Caller, allowed("devices.read")],
    station_id: Annotated[str | None, Query(max_length=64)] = None,
    resident_id: Annotated[str | None, Query(max_length=64)] = None,
    online: bool | None = None,
    q: Annotated[str | None, Query(max_length=100,
                                   description="Id, resident, kind or vendor contains")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:  # fmt: skip
    def work() -> dict[str, Any]:
        rows = queries.devices(ctx.store, caller.scope, station_id=station_id,
                               resident_id=resident_id)  # fmt: skip
        if q:
            needle = q.strip().lower()
            rows = [
                d for d in rows
                if any(needle in (v or "").lower() for v in (d.id, d.resident_id, d.kind, d.vendor))
            ]  # fmt: skip
        rows.sort(key=lambda d: d.id)
        items = _health(ctx, rows)
        if online is not None:
            items = [d for d in items if bool(d["online"]) == online]
        page = queries.Page.of(items, limit, offset)
        return asdict(page)

    return await asyncio.to_thread(work)


@router.get("/unprovisioned", summary="Ids seen on the broker but not provisioned")
async def unprovisioned(
    ctx: CtxDep, caller: Annotated[Caller, allowed("devices.write")]
) -> list[dict[str, Any]]:
    rows = await asyncio.to_thread(ctx.store.list_unprovisioned)
    return [asdict(u) for u in rows]


@router.post("", status_code=201, summary="Provision a device (or claim an unprovisioned id)")
async def provision(
    body: DeviceIn, ctx: CtxDep, caller: Annotated[Caller, allowed("devices.write")]
) -> dict[str, Any]:
    def work() -> Credentials:
        if body.resident_id is not None:
            queries.resident(ctx.store, caller.scope, body.resident_id)
        elif body.gateway_id is not None:
            queries.device(ctx.store, caller.scope, body.gateway_id)
        elif not caller.scope.everything:
            raise forbidden("bind the device to a resident or gateway of your station")
        device = Device(**body.model_dump(), created_at=ctx.clock())
        return provision_device(ctx.store, device, _broker(ctx))

    creds = await asyncio.to_thread(work)
    await registry_changed(ctx)
    return {"credentials": _creds(creds), "shown_once": True}


@router.post("/import", status_code=201, summary="Provision devices from CSV")
async def import_csv(
    body: DeviceCsvIn, ctx: CtxDep, caller: Annotated[Caller, allowed("devices.write")]
) -> dict[str, Any]:
    def work() -> list[Credentials]:
        queries.station(ctx.store, caller.scope, body.station_id)
        return import_devices(ctx.store, body.station_id, body.csv, _broker(ctx))

    creds = await asyncio.to_thread(work)
    await registry_changed(ctx)
    return {"credentials": [_creds(c) for c in creds], "shown_once": True}


@router.get("/{device_id}", summary="One device with its health and status history")
async def get_device(
    device_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("devices.read")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        d = queries.device(ctx.store, caller.scope, device_id)
        out = _health(ctx, [d])[0]
        out["status_history"] = [asdict(s) for s in ctx.store.status_history(d.id, limit=20)]
        return out

    return await asyncio.to_thread(work)


@router.get("/{device_id}/refusals", summary="Messages refused from this device, and why")
async def refusals(
    device_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("refusals.read")],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    def work() -> list[dict[str, Any]]:
        d = queries.device(ctx.store, caller.scope, device_id)
        rows = ctx.store.dead_letters(device_id=d.id, limit=limit)
        return [
            {"id": r.id, "received_at": r.received_at, "topic": r.topic, "code": r.code,
             "detail": r.detail, "payload": r.payload[:2000].decode("utf-8", "replace")}
            for r in rows
        ]  # fmt: skip

    return await asyncio.to_thread(work)
