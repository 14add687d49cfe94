"""Devices: list with health, detail, provisioning (credentials shown once), devices seen
on the broker but not provisioned (to claim), CSV import, and a vendor's refusals."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import Field

from dashboard import queries
from dashboard.deps import Caller, Context, CtxDep, allowed, registry_changed
from dashboard.errors import ApiError, forbidden
from dashboard.routers import ApiModel, api_router
from hub.contract.ping import new_command_id, ping_command
from hub.errors import BrokerError, NotFound, RegistryError
from hub.registry.provisioning import Credentials, import_devices, provision_device
from hub.store.base import Device, Store

router = api_router("/devices", "devices")


class DeviceIn(ApiModel):
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


class DeviceCsvIn(ApiModel):
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


def _check_binding(
    ctx: Context, caller: Caller, resident_id: str | None, gateway_id: str | None
) -> None:
    """The resident and the gateway a device is bound to are both in the caller's scope
    (404 otherwise, as if missing) and, when both are named, at the same station."""
    store, scope = ctx.store, caller.scope
    station = None
    if resident_id is not None:
        station = queries.resident(store, scope, resident_id).station_id
    if gateway_id is not None:
        gateway = queries.device(store, scope, gateway_id)
        at = queries.device_station(store, gateway)
        if resident_id is not None and at is not None and at != station:
            raise RegistryError(f"gateway {gateway_id} is not at resident {resident_id}'s "
                                "station")  # fmt: skip
    if resident_id is None and gateway_id is None and not scope.everything:
        raise forbidden("bind the device to a resident or gateway of your station")


def _check_csv_gateways(store: Store, station_id: str, text: str) -> None:
    """Registered gateways a device file names must be at ``station_id``; one elsewhere is
    reported like one that does not exist (the other station's ids stay private)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
            for row in reader]  # fmt: skip
    in_file = {r.get("id") for r in rows}
    named = sorted({r["gateway_id"] for r in rows if r.get("gateway_id")} - in_file)
    elsewhere = []
    for gateway_id in named:
        try:
            gateway = store.get_device(gateway_id)
        except NotFound:
            elsewhere.append(gateway_id)
            continue
        if queries.device_station(store, gateway) != station_id:
            elsewhere.append(gateway_id)
    if elsewhere:
        raise RegistryError("nothing imported:\n" + "\n".join(
            f"gateway {g} is not a gateway of {station_id}" for g in elsewhere
        ))  # fmt: skip


@router.post("", status_code=201, summary="Provision a device (or claim an unprovisioned id)")
async def provision(
    body: DeviceIn, ctx: CtxDep, caller: Annotated[Caller, allowed("devices.write")]
) -> dict[str, Any]:
    def work() -> Credentials:
        _check_binding(ctx, caller, body.resident_id, body.gateway_id)
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
        _check_csv_gateways(ctx.store, body.station_id, body.csv)
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
             "detail": r.detail, "payload": r.payload[:2000].decode("utf-8", "replace"),
             "size": r.size if r.size is not None else len(r.payload), "sha256": r.sha256}
            for r in rows
        ]  # fmt: skip

    return await asyncio.to_thread(work)


@router.post("/{device_id}/ping", status_code=202, summary="Send the device a ping command")
async def ping(
    device_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("refusals.read")]
) -> dict[str, Any]:
    """Publish the contract's ``ping`` on the device's ``cmd`` topic; the device answers on
    ``reply`` with the returned ``command_id`` (stored by the hub)."""
    d = await asyncio.to_thread(queries.device, ctx.store, caller.scope, device_id)
    command_id = new_command_id()
    topic, payload = ping_command(d.id, d.gateway_id, command_id, ctx.clock())
    try:
        ctx.hub.publish(topic, payload, 1)
    except BrokerError as exc:
        raise ApiError(503, "broker_unavailable", "the hub cannot reach its broker now") from exc
    return {"command_id": command_id, "topic": topic}
