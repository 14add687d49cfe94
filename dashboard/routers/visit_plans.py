"""A resident's visit plan and care profile (living alone, left-behind elder, risk level),
and hospital discharges, each of which creates a follow-up visit."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field

from dashboard import queries
from dashboard.deps import Caller, Context, CtxDep, allowed
from dashboard.routers import ApiModel, api_router
from hub.contract.text import FREE_TEXT_PATTERN
from hub.store.base import CareProfile, VisitPlan
from hub.visits.followups import DISCHARGE_WITHIN_DAYS, discharge_followup
from hub.visits.schedule import cadence_for, local_date

router = api_router("/residents", "visits")


class PlanIn(ApiModel):
    """The plan and the profile its ``by_risk`` cadence reads. ``starts_on`` defaults to
    today (the station's date); ``weekday`` 0 is Monday."""

    cadence: Literal["weekly", "fortnightly", "monthly", "by_risk"]
    window_days: int = Field(2, ge=0, le=14)
    weekday: int | None = Field(None, ge=0, le=6)
    starts_on: date | None = None
    active: bool = True
    living_alone: bool = False
    left_behind: bool = False
    risk_level: Literal["low", "medium", "high"] = "low"


class DischargeIn(ApiModel):
    discharged_on: date | None = None
    within_days: int = Field(DISCHARGE_WITHIN_DAYS, ge=0, le=30)
    note: str = Field("", max_length=500, pattern=FREE_TEXT_PATTERN)


def _timezone(ctx: Context, station_id: str) -> str:
    return ctx.store.get_station(station_id).timezone or ctx.hub.settings.default_timezone


def _plan_json(ctx: Context, resident_id: str) -> dict[str, Any]:
    profile = ctx.store.get_care_profile(resident_id) or CareProfile(resident_id)
    plan = ctx.store.get_visit_plan(resident_id)
    return {
        "resident_id": resident_id, "profile": asdict(profile),
        "plan": asdict(plan) if plan else None,
        "period": cadence_for(plan.cadence, profile) if plan else None,
    }  # fmt: skip


@router.get("/{resident_id}/visit-plan", summary="A resident's visit plan and care profile")
async def get_plan(
    resident_id: str, ctx: CtxDep, caller: Annotated[Caller, allowed("visits.read")]
) -> dict[str, Any]:
    def work() -> dict[str, Any]:
        queries.resident(ctx.store, caller.scope, resident_id)
        return _plan_json(ctx, resident_id)

    return await asyncio.to_thread(work)


@router.put(
    "/{resident_id}/visit-plan",
    summary="Set a resident's visit plan and care profile; tasks due appear at once",
)
async def put_plan(
    resident_id: str, body: PlanIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("visits.plan")],
) -> dict[str, Any]:  # fmt: skip
    now = ctx.clock()

    def work() -> dict[str, Any]:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        starts = body.starts_on or local_date(now, _timezone(ctx, r.station_id))
        ctx.store.set_care_profile(CareProfile(
            r.id, body.living_alone, body.left_behind, body.risk_level, now,
        ))  # fmt: skip
        ctx.store.set_visit_plan(VisitPlan(
            r.id, body.cadence, body.window_days, starts.isoformat(), body.weekday, body.active,
            now, caller.user_id,
        ))  # fmt: skip
        ctx.hub.visits.generate(now, r.id)
        return _plan_json(ctx, r.id)

    return await asyncio.to_thread(work)


@router.post(
    "/{resident_id}/discharges",
    status_code=201,
    summary="Record a hospital discharge: a follow-up visit is due within N days",
)
async def add_discharge(
    resident_id: str, body: DischargeIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("visits.record")],
) -> dict[str, Any]:  # fmt: skip
    now = ctx.clock()

    def work() -> dict[str, Any]:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        tz = _timezone(ctx, r.station_id)
        day = body.discharged_on or local_date(now, tz)
        task = discharge_followup(r.id, r.station_id, day, tz, now,
                                  within_days=body.within_days, note=body.note)  # fmt: skip
        ctx.store.add_visit_tasks([task])  # once per resident and day
        return asdict(ctx.store.get_visit_task(task.id))

    return await asyncio.to_thread(work)
