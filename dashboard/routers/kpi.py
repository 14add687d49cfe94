"""Station KPIs: the table of a station, of a district's stations side by side, or of a
city's districts side by side, each with its total; and the same table as CSV.

Who sees what: station staff and supervisors their own station; a district admin the
district's stations (and each one alone); a city admin the city's districts, each district
and each station. A scope the caller does not see answers 404, a level above their role
403. Definitions of every figure: ``docs/kpi.md``.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Query, Request, Response

from dashboard.deps import Caller, Context, CtxDep, allowed
from dashboard.errors import ApiError, forbidden, language, not_found
from dashboard.kpi_csv import kpi_csv
from dashboard.routers import api_router
from dashboard.scope import Scope
from hub.errors import NotFound
from hub.kpi.period import PeriodError, period
from hub.kpi.table import KpiTable, Level, kpi_table, scope_timezone

router = api_router("/kpi", "kpi")

DateQ = Annotated[str | None, Query(max_length=10, description="Local date, YYYY-MM-DD")]


def _default_scope(scope: Scope, ctx: Context) -> tuple[Level, str]:
    """Where a caller's KPI page opens: their station, district or city."""
    user = ctx.store.get_user(scope.user_id)
    if scope.role == "city_admin":
        if user.scope_id:
            return "city", user.scope_id
        cities = ctx.store.list_cities()
        if not cities:
            raise not_found("no city")
        return "city", cities[0].id
    if scope.role == "district_admin":
        return "district", user.scope_id or ""
    return "station", user.scope_id or ""


def _check_level(scope: Scope, level: Level) -> None:
    if level == "city" and scope.role != "city_admin":
        raise forbidden("only a city admin sees a city's KPIs")
    if level == "district" and scope.role not in ("city_admin", "district_admin"):
        raise forbidden("only district and city admins see a district's KPIs")


def build(
    ctx: Context, caller: Caller, level: Level | None, scope_id: str | None,
    first: str | None, last: str | None,
) -> KpiTable:  # fmt: skip
    """The table the caller asked for (synchronous: run in a worker thread)."""
    scope = caller.scope
    if level is not None and scope_id is None:
        reason = "id names the station, district or city of the level asked for"
        raise ApiError(422, "validation_error", reason,
                       [{"loc": ["query", "id"], "type": "missing", "reason": reason}])  # fmt: skip
    if level is None or scope_id is None:
        default_level, default_id = _default_scope(scope, ctx)
        level, scope_id = default_level, scope_id or default_id
    _check_level(scope, level)
    default_tz = ctx.hub.settings.default_timezone
    try:
        tz = scope_timezone(ctx.store, level, scope_id, default_tz)
        if level == "station" and not scope.sees_station(scope_id):
            raise NotFound(f"station {scope_id!r}")
        try:
            when = period(first, last, tz, now=ctx.clock())
        except PeriodError as exc:
            raise ApiError(422, "invalid_period", str(exc)) from None
        return kpi_table(ctx.store, level, scope_id, when, visible=scope.sees_station)
    except NotFound:
        raise not_found(f"{level} {scope_id!r}") from None


def table_json(t: KpiTable) -> dict[str, Any]:
    p = t.period
    return {
        "level": t.level, "id": t.id, "name": t.name, "timezone": p.timezone,
        "from": p.first.isoformat(), "to": p.last.isoformat(), "start": p.start, "end": p.end,
        "measured_end": p.measured_end, "columns": [asdict(c) for c in t.columns],
        "rows": [asdict(r) for r in t.rows],
    }  # fmt: skip


@router.get("", summary="KPIs of a station, a district's stations or a city's districts")
async def get_kpi(
    ctx: CtxDep, caller: Annotated[Caller, allowed("reports.read")],
    level: Level | None = None, id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: DateQ = None,
) -> dict[str, Any]:  # fmt: skip
    t = await asyncio.to_thread(build, ctx, caller, level, id, from_, to)
    return table_json(t)


@router.get("/csv", summary="The same KPI table as CSV (UTF-8 with BOM, headers localized)",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})  # fmt: skip
async def get_kpi_csv(
    request: Request, ctx: CtxDep, caller: Annotated[Caller, allowed("reports.read")],
    level: Level | None = None, id: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    to: DateQ = None,
) -> Response:  # fmt: skip
    t = await asyncio.to_thread(build, ctx, caller, level, id, from_, to)
    body = kpi_csv(t.columns, t.rows, language(request))
    name = f"kpi-{t.level}-{t.period.first}-{t.period.last}.csv"
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
