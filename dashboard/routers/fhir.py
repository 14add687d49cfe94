"""FHIR R4 export: a resident's vital signs over a period as a ``searchset`` Bundle of
Observations with the Patient and Devices, paged by ``link`` ``next`` (``docs/fhir.md``)."""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Any

import orjson
from fastapi import Query, Request, Response

from dashboard import queries
from dashboard.deps import Caller, CtxDep, allowed
from dashboard.errors import ApiError
from dashboard.routers import api_router
from hub.fhir.bundle import bundle
from hub.fhir.paging import read_page
from hub.kpi.period import PeriodError, period

router = api_router("/residents", "fhir")

FHIR_JSON = "application/fhir+json"
DEFAULT_DAYS = 1
MAX_COUNT = 5000


@router.get(
    "/{resident_id}/fhir", response_class=Response,
    summary="Vital signs as a FHIR R4 Bundle (searchset) of Observations, paged",
    responses={200: {"content": {FHIR_JSON: {}}}},
)  # fmt: skip
async def export_fhir(
    resident_id: str, request: Request, ctx: CtxDep,
    caller: Annotated[Caller, allowed("fhir.read")],
    from_: Annotated[str | None, Query(alias="from", max_length=10,
                                       description="First local day, YYYY-MM-DD")] = None,
    to: Annotated[str | None, Query(max_length=10, description="Last local day")] = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=MAX_COUNT,
                                description="Observations a page at most")] = 1000,
    after: Annotated[float | None, Query(description="Paging cursor (from the next link)")] = None,
) -> Response:  # fmt: skip
    if after is not None and not math.isfinite(after):
        raise ApiError(422, "invalid_period", "after must be a finite number")

    def work() -> dict[str, Any]:
        r = queries.resident(ctx.store, caller.scope, resident_id)
        station = ctx.store.get_station(r.station_id)
        tz = station.timezone or ctx.hub.settings.default_timezone
        try:
            when = period(from_, to, tz, now=ctx.clock(), default_days=DEFAULT_DAYS)
        except PeriodError as exc:
            raise ApiError(422, "invalid_period", str(exc)) from None
        devices = sorted(ctx.store.list_devices(resident_id=r.id), key=lambda d: d.id)
        page = read_page(ctx.store, [d.id for d in devices], when.start, when.end,
                         after=after, count=count)  # fmt: skip
        next_url = None
        if page.next_after is not None:
            next_url = str(request.url.include_query_params(after=repr(page.next_after)))
        return bundle(r, devices, page.rows, now=ctx.clock(), self_url=str(request.url),
                      next_url=next_url)  # fmt: skip

    body = await asyncio.to_thread(work)
    return Response(orjson.dumps(body), media_type=FHIR_JSON)
