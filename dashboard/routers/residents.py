"""Residents: list and detail (contacts, devices and their state, last vitals), vitals time
series downsampled for charts, recent device events, the audit timeline, CSV import."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query
from pydantic import Field

from dashboard import queries
from dashboard.deps import Caller, Context, CtxDep, allowed, registry_changed
from dashboard.routers import ApiModel, api_router
from hub.registry.provisioning import check_id, import_residents
from hub.store.base import Resident

router = api_router("/residents", "residents")

WINDOWS: dict[str, tuple[float, int]] = {"24h": (86_400.0, 300), "7d": (604_800.0, 3_600)}
"""Chart window → (seconds, bucket seconds): 288 and 168 points, each a mean/min/max."""
ONLINE_FIELDS = ("hr", "spo2", "rr", "temp", "sbp", "dbp", "glucose", "battery")


class ResidentIn(ApiModel):
    id: str = Field(min_length=1, max_length=64)
    station_id: str
    name: str = Field(min_length=1, max_length=200)
    address: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    birth_year: int | None = Field(None, ge=1890, le=2030)
    status: Literal["home", "away", "hospital", "inactive"] = "home"


class ResidentPatch(ApiModel):
    """What an admin may change of a resident (the id stays); unset fields stay as they are."""

    station_id: str | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    birth_year: int | None = Field(None, ge=1890, le=2030)
    status: Literal["home", "away", "hospital", "inactive"] | None = None


class StatusIn(ApiModel):
    status: Literal["home", "away", "hospital", "inactive"]


class CsvIn(ApiModel):
    station_id: str
    csv: str = Field(min_length=1, max_length=5_000_000)


def resident_json(r: Resident) -> dict[str, Any]:
    return asdict(r)


def tiles(ctx: Context, rows: list[Resident]) -> list[dict[str, Any]]:
    """Residents with their devices' state: online, battery, last vitals (synchronous)."""
    states = {s.device_id: s for s in ctx.store.device_states()}
    out = []
    for r in rows:
        devices = ctx.store.list_devices(resident_id=r.id)
        latest = ctx.store.latest_telemetry([d.id for d in devices])
        vitals: dict[str, Any] = {}
        for row in sorted(latest.values(), key=lambda t: t.ts):
            vitals |= {k: v for k, v in row.values.items() if k in ONLINE_FIELDS}
            vitals["at"] = row.ts
        devs = []
        for d in devices:
            st = states.get(d.id)
            battery = latest[d.id].values.get("battery") if d.id in latest else None
            devs.append({
                "id": d.id, "kind": d.kind, "online": st.online if st else None,
                "last_seen_at": st.last_seen_at if st else None, "battery": battery,
            })  # fmt: skip
        out.append(resident_json(r) | {"devices": devs, "vitals": vitals})
    return out


@router.get("", summary="Residents you can see, with live status (paginated)")
async def list_residents(
    ctx: CtxDep, caller: Annotated[Caller, allowed("residents.read")],
    station_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Name or id contains")] = None,
    status: Literal["home", "away", "hospital", "inactive"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:  # fmt: skip
    def work() -> dict[str, Any]:
        rows = queries.residents(ctx.store, caller.scope, station_id)
        if q:
            needle = q.lower()
            rows = [r for r in rows if needle in r.name.lower() or needle in r.id.lower()]
        if status:
            rows = [r for r in rows if r.status == status]
        rows.sort(key=lambda r: r.id)
        page = queries.Page.of(rows, limit, offset)
        return asdict(replace(page, items=tiles(ctx, page.items)))

    return await asyncio.to_thread(work)


@router.get("/{resident_id}", summary="One resident: contacts, devices, status, map link")
async def get_resident(
    resident_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("residents.read")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        out = tiles(ctx, [r])[0]
        out["contacts"] = [
            {"id": c.id, "name": c.name, "relation": c.relation, "phone": c.phone}
            for c in ctx.store.list_contacts(r.id)
        ]
        if r.lat is not None and r.lon is not None:
            out["map_url"] = ctx.settings.map_url.format(lat=r.lat, lon=r.lon, name=quote(r.name))
        elif r.address:
            out["map_url"] = None
        out["station"] = asdict(ctx.store.get_station(r.station_id))
        return out

    return await asyncio.to_thread(work)


@router.post("", status_code=201, summary="Add a resident to a station")
async def create_resident(
    body: ResidentIn, ctx: CtxDep, caller: Annotated[Caller, allowed("residents.write")]
) -> dict[str, Any]:
    check_id(body.id, "resident id")

    def work() -> Resident:
        queries.station(ctx.store, caller.scope, body.station_id)
        r = Resident(**body.model_dump())
        ctx.store.add_resident(r)
        return r

    r = await asyncio.to_thread(work)
    await registry_changed(ctx)
    return resident_json(r)


@router.patch("/{resident_id}", summary="Edit a resident: name, address, station, status...")
async def update_resident(
    resident_id: str, body: ResidentPatch, ctx: CtxDep,
    caller: Annotated[Caller, allowed("residents.write")],
) -> dict[str, Any]:  # fmt: skip
    changes = body.model_dump(include=body.model_fields_set)
    for required in ("name", "station_id", "status"):
        if changes.get(required, "") is None:
            changes.pop(required)  # these cannot be emptied

    def work() -> Resident:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        if changes.get("station_id", r.station_id) != r.station_id:
            queries.station(ctx.store, caller.scope, changes["station_id"])  # yours to move to
        updated = replace(r, **changes)
        ctx.store.update_resident(updated)
        return updated

    r = await asyncio.to_thread(work)
    await registry_changed(ctx)  # moved: the consoles of both stations follow
    return resident_json(r)


@router.put("/{resident_id}/status", summary="Home, away, in hospital or inactive")
async def set_status(
    resident_id: str, body: StatusIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("alerts.act")],
) -> dict[str, Any]:  # fmt: skip
    def work() -> Resident:
        r = replace(queries.resident(ctx.store, caller.scope, resident_id), status=body.status)
        ctx.store.update_resident(r)
        return r

    r = await asyncio.to_thread(work)
    await registry_changed(ctx)
    return resident_json(r)


@router.post("/import", summary="Import residents (and a first contact each) from CSV")
async def import_csv(
    body: CsvIn, ctx: CtxDep, caller: Annotated[Caller, allowed("residents.write")]
) -> dict[str, Any]:
    def work() -> list[Resident]:
        queries.station(ctx.store, caller.scope, body.station_id)
        return import_residents(ctx.store, body.station_id, body.csv)

    rows = await asyncio.to_thread(work)
    await registry_changed(ctx)
    return {"imported": len(rows), "ids": [r.id for r in rows]}


@router.get("/{resident_id}/vitals", summary="Vital signs downsampled for charts")
async def vitals(
    resident_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("vitals.read")],
    window: Literal["24h", "7d"] = "24h",
    until: Annotated[
        float | None, Query(description="Window end, epoch s (default now)", allow_inf_nan=False)
    ] = None,
) -> dict[str, Any]:  # fmt: skip
    span, bucket = WINDOWS[window]
    end = until if until is not None else ctx.clock()

    def work() -> dict[str, Any]:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        ids = [d.id for d in ctx.store.list_devices(resident_id=r.id)]
        rows = ctx.store.vitals_series(ids, end - span, end, bucket)
        series: dict[str, list[dict[str, Any]]] = {}
        for b in rows:
            point: dict[str, Any] = {"t": b.start, "n": b.n}
            point |= {k: list(v) for k, v in b.values.items()}
            series.setdefault(b.device_id, []).append(point)
        return {"resident_id": r.id, "window": window, "since": end - span, "until": end,
                "bucket_s": bucket, "series": series}  # fmt: skip

    return await asyncio.to_thread(work)


@router.get("/{resident_id}/events", summary="Recent device events (motion, doors, SOS...)")
async def events(
    resident_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("residents.read")],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:  # fmt: skip
    def work() -> list[dict[str, Any]]:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        rows = []
        for d in ctx.store.list_devices(resident_id=r.id):
            rows += ctx.store.events(d.id, limit=limit)
        rows.sort(key=lambda e: -e.received_at)
        return [asdict(e) for e in rows[:limit]]

    return await asyncio.to_thread(work)


@router.get("/{resident_id}/timeline", summary="Audit timeline of the resident's alerts")
async def timeline(
    resident_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("alerts.read")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:  # fmt: skip
    def work() -> list[dict[str, Any]]:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        rows = ctx.store.alert_timeline(resident_id=r.id, limit=10_000)
        if caller.scope.resident_ids is not None:  # families: their elder's clinical alerts
            visible = {a.id for a in queries.alerts(ctx.store, caller.scope, resident_id=r.id,
                                                    limit=10_000)}  # fmt: skip
            rows = [t for t in rows if t.alert_id in visible]
        return [asdict(t) for t in rows[-limit:]]

    return await asyncio.to_thread(work)
