"""Silences and maintenance windows: list, add (scoped to what you manage), cancel."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict
from typing import Annotated, Any

from pydantic import Field

from alerts.rules import Silence
from dashboard import queries
from dashboard.deps import Caller, CtxDep, allowed
from dashboard.errors import forbidden, not_found
from dashboard.routers import ApiModel, api_router
from dashboard.scope import Scope
from hub.errors import NotFound
from hub.store.base import SilenceRow, Store

router = api_router("/silences", "silences")


class SilenceIn(ApiModel):
    start: float | None = Field(None, description="Epoch s (default now)")
    end: float
    reason: str = Field(min_length=1, max_length=500)
    resident_id: str | None = None
    device_id: str | None = None
    kind: str | None = None
    station_id: str | None = None
    technical_only: bool = False


def _sees(store: Store, scope: Scope, s: SilenceRow | SilenceIn) -> bool:
    """A silence is visible when every scope field it sets is visible to the caller."""
    if scope.everything:
        return True
    if s.station_id is None and s.resident_id is None and s.device_id is None:
        return False  # a kind-wide silence concerns every station
    try:
        if s.station_id is not None and not scope.sees_station(s.station_id):
            return False
        if s.resident_id is not None:
            queries.resident(store, scope, s.resident_id)
        if s.device_id is not None:
            queries.device(store, scope, s.device_id)
    except NotFound:
        return False
    return True


@router.get("", summary="Silences in force now, or all not cancelled")
async def list_silences(
    ctx: CtxDep, caller: Annotated[Caller, allowed("silences.read")], active: bool = True
) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        rows = ctx.store.list_silences(active_at=ctx.clock() if active else None)
        return [asdict(r) for r in rows if _sees(ctx.store, caller.scope, r)]

    return await asyncio.to_thread(work)


@router.post("", status_code=201, summary="Silence a resident, device, kind or station")
async def add_silence(
    body: SilenceIn, ctx: CtxDep, caller: Annotated[Caller, allowed("silences.write")]
) -> dict[str, Any]:
    if not await asyncio.to_thread(_sees, ctx.store, caller.scope, body):
        if body.station_id is None and body.resident_id is None and body.device_id is None:
            raise forbidden("a silence of a kind everywhere is for an unscoped admin")
        raise not_found("station, resident or device")  # out of scope: as if missing
    now = ctx.clock()
    silence = Silence(
        f"sil-{uuid.uuid4().hex[:12]}", body.start if body.start is not None else now, body.end,
        caller.actor, body.reason, body.resident_id, body.device_id, body.kind,
        body.station_id, body.technical_only, now,
    )  # fmt: skip
    await ctx.hub.alerts.call(ctx.hub.alert_engine.add_silence, silence, now)
    return asdict(silence)


@router.delete("/{silence_id}", summary="Cancel a silence")
async def cancel_silence(
    silence_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("silences.write")]
) -> dict[str, bool]:
    rows = await asyncio.to_thread(ctx.store.list_silences, include_cancelled=True)
    row = next((r for r in rows if r.id == silence_id), None)
    if row is None or not await asyncio.to_thread(_sees, ctx.store, caller.scope, row):
        raise not_found(f"silence {silence_id!r}")
    await ctx.hub.alerts.call(
        ctx.hub.alert_engine.cancel_silence, silence_id, caller.actor, ctx.clock()
    )
    return {"ok": True}
