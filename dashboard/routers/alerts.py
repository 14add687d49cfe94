"""Alerts: the queue (filters, priority order, pagination), one alert with its timeline,
and the commands of people: acknowledge, assign, resolve with an outcome, comment, and a
family member's "I'm going over"."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import Field

from alerts.state import PERSON_OUTCOMES
from dashboard import queries
from dashboard.deps import Caller, Context, CtxDep, allowed
from dashboard.errors import ApiError
from dashboard.routers import ApiModel, api_router
from dashboard.scope import STATION_ROLES
from hub.errors import NotFound
from hub.store.base import AlertChanges, TimelineRow

router = api_router("/alerts", "alerts")

Outcome = Literal[
    "real_emergency", "handled_by_phone", "no_response", "false_alarm", "device_fault", "test"
]
assert set(PERSON_OUTCOMES) == set(Outcome.__args__)  # type: ignore[attr-defined]


class NoteIn(ApiModel):
    note: str | None = Field(None, max_length=2000)


class AssignIn(ApiModel):
    assignee: str = Field(min_length=1, max_length=64)


class ResolveIn(ApiModel):
    outcome: Outcome
    note: str | None = Field(None, max_length=2000)


class CommentIn(ApiModel):
    text: str = Field(min_length=1, max_length=2000)


@router.get("", summary="Alerts you can see (newest first, or priority then age)")
async def list_alerts(
    ctx: CtxDep, caller: Annotated[Caller, allowed("alerts.read")],
    state: Annotated[list[Literal["open", "acknowledged", "resolved"]] | None, Query()] = None,
    active: Annotated[bool, Query(description="Open or acknowledged only")] = False,
    priority: Literal["high", "medium", "low"] | None = None,
    category: Literal["clinical", "technical"] | None = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    station_id: Annotated[str | None, Query(max_length=64)] = None,
    resident_id: Annotated[str | None, Query(max_length=64)] = None,
    order: Literal["newest", "priority"] = "newest",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict[str, Any]:  # fmt: skip
    states = ["open", "acknowledged"] if active else state

    def work() -> dict[str, Any]:
        rows = queries.alerts(
            ctx.store, caller.scope, station_id=station_id, resident_id=resident_id,
            states=states, priority=priority, category=category, kind=kind,
            limit=offset + limit + 1,
        )  # fmt: skip
        if order == "priority":
            rows = queries.by_priority(rows)
        page = queries.Page.of(rows, limit, offset)
        return asdict(page) | {"items": [queries.alert_json(a) for a in page.items]}

    return await asyncio.to_thread(work)


async def _visible(ctx: Context, caller: Caller, alert_id: str) -> dict[str, Any]:
    row = await asyncio.to_thread(queries.alert, ctx.store, caller.scope, alert_id)
    return queries.alert_json(row)


@router.get("/{alert_id}", summary="One alert")
async def get_alert(
    alert_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("alerts.read")]
) -> dict[str, Any]:
    return await _visible(ctx, caller, alert_id)


@router.get("/{alert_id}/timeline", summary="The alert's audit timeline, oldest first")
async def alert_timeline(
    alert_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("alerts.read")]
) -> list[dict[str, Any]]:
    await _visible(ctx, caller, alert_id)
    rows = await asyncio.to_thread(ctx.hub.alert_engine.timeline, alert_id=alert_id)
    return [asdict(t) for t in rows]


@router.post("/{alert_id}/acknowledge", summary="Take responsibility (tells the device)")
async def acknowledge(
    alert_id: str, body: NoteIn, ctx: CtxDep, caller: Annotated[Caller, allowed("alerts.act")]
) -> dict[str, Any]:
    await _visible(ctx, caller, alert_id)
    engine = ctx.hub.alert_engine
    await ctx.hub.alerts.call(engine.acknowledge, alert_id, caller.actor, ctx.clock(), body.note)
    return await _visible(ctx, caller, alert_id)


@router.post("/{alert_id}/assign", summary="Give the alert to a user of its station")
async def assign(
    alert_id: str, body: AssignIn, ctx: CtxDep, caller: Annotated[Caller, allowed("alerts.act")]
) -> dict[str, Any]:
    alert = await _visible(ctx, caller, alert_id)
    if not await asyncio.to_thread(_of_station, ctx, body.assignee, alert.get("station_id")):
        # the same answer for a user of another station as for nobody: ids stay private
        raise ApiError(422, "unknown_assignee", f"no active user {body.assignee!r} at the "
                       "alert's station")  # fmt: skip
    engine = ctx.hub.alert_engine
    await ctx.hub.alerts.call(engine.assign, alert_id, caller.actor, body.assignee, ctx.clock())
    return await _visible(ctx, caller, alert_id)


def _of_station(ctx: Context, user_id: str, station_id: str | None) -> bool:
    """Is ``user_id`` an active supervisor or staff member of ``station_id``?"""
    try:
        user = ctx.store.get_user(user_id)
    except NotFound:
        return False
    return (
        station_id is not None and not user.disabled and user.role in STATION_ROLES
        and user.scope_id == station_id
    )  # fmt: skip


@router.post("/{alert_id}/resolve", summary="Resolve with an outcome")
async def resolve(
    alert_id: str, body: ResolveIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("alerts.act")],
) -> dict[str, Any]:  # fmt: skip
    await _visible(ctx, caller, alert_id)
    engine = ctx.hub.alert_engine
    await ctx.hub.alerts.call(
        engine.resolve, alert_id, caller.actor, body.outcome, ctx.clock(), body.note
    )
    return await _visible(ctx, caller, alert_id)


@router.post("/{alert_id}/comments", status_code=201, summary="Comment on the timeline")
async def comment(
    alert_id: str, body: CommentIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("alerts.comment")],
) -> dict[str, Any]:  # fmt: skip
    await _visible(ctx, caller, alert_id)
    engine = ctx.hub.alert_engine
    row = await ctx.hub.alerts.call(engine.comment, alert_id, caller.actor, body.text, ctx.clock())
    return asdict(row)


@router.post("/{alert_id}/going", status_code=201, summary="A family member is going over")
async def going_over(
    alert_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("alerts.going")]
) -> dict[str, Any]:
    alert = await _visible(ctx, caller, alert_id)
    entry = TimelineRow(alert_id, ctx.clock(), caller.actor, "going_over",
                        {"name": caller.principal.user.name}, alert.get("resident_id"))  # fmt: skip
    # the engine has no command for this yet: the entry is appended like any timeline row
    # and pushed to the station's consoles by the broadcaster
    await asyncio.to_thread(ctx.store.write_alert_changes, AlertChanges(timeline=[entry]))
    if ctx.broadcaster is not None:
        ctx.broadcaster.timeline_entry(alert, entry)
    return asdict(entry)
