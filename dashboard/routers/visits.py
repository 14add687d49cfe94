"""Visit and follow-up tasks: the station's list (today's, overdue, done), one task with
its record and ratings, and recording a visit (which completes the task and clears its
overdue alert). Plans and discharges: :mod:`dashboard.routers.visit_plans`."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import Field, field_validator

from dashboard import visit_views
from dashboard.deps import Caller, CtxDep, allowed
from dashboard.errors import ApiError, invalid
from dashboard.routers import ApiModel, api_router
from hub.contract.text import FREE_TEXT_PATTERN
from hub.store.base import VisitRecord
from hub.visits import assessment

router = api_router("/visits", "visits")

FUTURE_SLACK_S = 300.0
"""How far ahead of the hub's clock a phone's clock may be."""


class RecordIn(ApiModel):
    """What the visitor found. ``visited_at`` defaults to now; ``photo_ref`` names a photo
    kept elsewhere (the hub stores no photos)."""

    mood: Literal[assessment.MOODS]  # type: ignore[valid-type]
    mobility: Literal[assessment.MOBILITY]  # type: ignore[valid-type]
    living: Literal[assessment.LIVING]  # type: ignore[valid-type]
    needs: list[Literal[assessment.NEEDS]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=len(assessment.NEEDS)
    )
    notes: str = Field("", max_length=assessment.NOTES_MAX, pattern=FREE_TEXT_PATTERN)
    photo_ref: str | None = Field(None, max_length=assessment.PHOTO_REF_MAX,
                                  pattern=r"^[^\s\u0000-\u001f\u007f-\u009f]+$")  # fmt: skip
    visited_at: float | None = Field(None, gt=0)

    @field_validator("needs")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


@router.get("", summary="Visit and follow-up tasks you can see, by due date")
async def list_visits(
    ctx: CtxDep, caller: Annotated[Caller, allowed("visits.read")],
    station_id: Annotated[str | None, Query(max_length=64)] = None,
    resident_id: Annotated[str | None, Query(max_length=64)] = None,
    state: Literal["open", "overdue", "done"] | None = None,
    kind: Literal["visit", "followup"] | None = None,
    due_until: Annotated[date | None, Query(description="Due on or before (local date)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:  # fmt: skip
    def work() -> dict[str, Any]:
        rows = visit_views.tasks(
            ctx.store, caller.scope, station_id=station_id, resident_id=resident_id,
            state=state, kind=kind, due_until=due_until.isoformat() if due_until else None,
            now=ctx.clock(), limit=limit,
        )  # fmt: skip
        return {"items": visit_views.with_details(ctx.store, caller.scope, rows),
                "now": ctx.clock()}  # fmt: skip

    return await asyncio.to_thread(work)


@router.get("/{task_id}", summary="One visit task with its record and ratings")
async def get_visit(
    task_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("visits.read")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        t = visit_views.task(ctx.store, caller.scope, task_id)
        return visit_views.with_details(ctx.store, caller.scope, [t])[0]

    return await asyncio.to_thread(work)


@router.post(
    "/{task_id}/record",
    status_code=201,
    summary="Record a visit: completes the task and clears its overdue alert",
)
async def record_visit(
    task_id: str, body: RecordIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("visits.record")],
) -> dict[str, Any]:  # fmt: skip
    now = ctx.clock()

    if body.visited_at is not None and body.visited_at > now + FUTURE_SLACK_S:
        raise invalid("visited_at", "a visit cannot be recorded before it happened")

    def work() -> dict[str, Any]:
        t = visit_views.task(ctx.store, caller.scope, task_id)
        if t.state == "done":
            raise ApiError(409, "visit_recorded", f"visit task {task_id!r} is recorded already")
        record = VisitRecord(
            t.id, t.resident_id, t.station_id, caller.user_id, body.visited_at or now, now,
            body.mood, body.mobility, body.living, tuple(body.needs), body.notes,
            body.photo_ref,
        )  # fmt: skip
        before = ctx.store.record_visit(record)  # Conflict (409) when done already
        return {"before": before}

    done = await asyncio.to_thread(work)
    await ctx.hub.visits.recorded(done["before"])

    def show() -> dict[str, Any]:
        t = visit_views.task(ctx.store, caller.scope, task_id)
        return visit_views.with_details(ctx.store, caller.scope, [t])[0]

    return await asyncio.to_thread(show)
