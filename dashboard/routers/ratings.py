"""Ratings (1–5 and a comment) of a completed visit or service, by the elder's family.

A rating is kept per subject (``visit`` or ``order``) and family member; the same person
may change it for :data:`EDIT_DAYS` days after first rating, then it is locked. What can
be rated is looked up in :data:`SUBJECTS`: a visit task that is done, and a service order
that is done (status ``done``), by the family of its resident.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import Field

from dashboard import queries, visit_views
from dashboard.deps import Caller, CtxDep, allowed
from dashboard.errors import ApiError
from dashboard.routers import ApiModel, api_router
from dashboard.scope import Scope
from hub.contract.text import FREE_TEXT_PATTERN
from hub.errors import NotFound
from hub.store.base import RatingRow, Store

router = api_router("/ratings", "ratings")

EDIT_DAYS = 7
COMMENT_MAX = 500


@dataclass(frozen=True, slots=True)
class Subject:
    """What is rated: whose it is and whether it is finished."""

    resident_id: str
    station_id: str
    done: bool


def _visit(store: Store, scope: Scope, subject_id: str) -> Subject:
    t = visit_views.task(store, scope, subject_id)
    return Subject(t.resident_id, t.station_id, t.state == "done")


def _order(store: Store, scope: Scope, subject_id: str) -> Subject:
    try:
        o = store.get_order(subject_id)
    except NotFound:
        o = None
    if o is None or not scope.sees_resident(o.resident_id, o.station_id):
        raise NotFound(f"order {subject_id!r}")
    return Subject(o.resident_id, o.station_id, o.status == "done")


SUBJECTS: dict[str, Callable[[Store, Scope, str], Subject]] = {"visit": _visit, "order": _order}
"""Subject kind → how to find it (NotFound when missing or not visible)."""


class RatingIn(ApiModel):
    score: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=COMMENT_MAX, pattern=FREE_TEXT_PATTERN)


@router.get("", summary="Ratings you can see (families: their own), newest first")
async def list_ratings(
    ctx: CtxDep, caller: Annotated[Caller, allowed("ratings.read")],
    subject_kind: Literal["visit", "order"] | None = None,
    station_id: Annotated[str | None, Query(max_length=64)] = None,
    resident_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    scope = caller.scope

    def work() -> list[dict[str, Any]]:
        if resident_id is not None:
            queries.resident(ctx.store, scope, resident_id)
        if station_id is not None:
            stations: list[str] | None = [station_id] if scope.sees_station(station_id) else []
        else:
            stations = None if scope.station_ids is None else sorted(scope.station_ids)
        rows = ctx.store.list_ratings(
            station_ids=stations, resident_id=resident_id, subject_kind=subject_kind,
            rater=visit_views.rater_filter(scope), limit=limit,
        )  # fmt: skip
        return [asdict(r) for r in rows if scope.sees_resident(r.resident_id, r.station_id)]

    return await asyncio.to_thread(work)


@router.put(
    "/{subject_kind}/{subject_id}",
    summary="Rate a completed visit or service (or change your rating for 7 days)",
)
async def put_rating(
    subject_kind: Literal["visit", "order"], subject_id: str, body: RatingIn, ctx: CtxDep,
    caller: Annotated[Caller, allowed("ratings.write")],
) -> dict[str, Any]:  # fmt: skip
    now = ctx.clock()

    def work() -> dict[str, Any]:
        find = SUBJECTS.get(subject_kind)
        if find is None:
            raise ApiError(422, "not_ratable", f"{subject_kind} cannot be rated yet")
        subject = find(ctx.store, caller.scope, subject_id)
        if not subject.done:
            raise ApiError(409, "not_done", f"{subject_kind} {subject_id!r} is not done yet")
        mine = ctx.store.get_rating(subject_kind, subject_id, caller.user_id)
        if mine is not None and now > mine.created_at + EDIT_DAYS * 86_400:
            raise ApiError(409, "rating_locked", f"ratings can be changed for {EDIT_DAYS} days")
        stored = ctx.store.put_rating(RatingRow(
            subject_kind, subject_id, caller.user_id, subject.resident_id, subject.station_id,
            body.score, body.comment, now, now,
        ))  # fmt: skip
        return asdict(stored)

    return await asyncio.to_thread(work)
