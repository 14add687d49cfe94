"""Service KPIs on SQLite: counts and sums in SQL, percentiles in Python over the selected
durations (:func:`hub.kpi.maths.percentiles`, PostgreSQL's arithmetic, so both back-ends
agree)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from hub.kpi.maths import percentiles
from hub.store.protocols.kpi import ALL, KPI_PERCENTILES, Durations, KpiGroup
from hub.store.protocols.service_kpi import MAX_ORDER_S, OnTimeFigures, RatingFigures
from hub.store.sqlite.connection import SqliteBase

_GROUP = {"station": "s.id", "district": "s.district_id", "all": "'*'"}
_IDS = "IN (SELECT value FROM json_each(?1))"

# the first check-in of each alert's emergency visit, from the alert's opening
_ARRIVALS = f"""
SELECT {{g}}, (SELECT min(e.at) FROM service_order_events e
               WHERE e.order_id = o.id AND e.to_status = 'arrived') - a.opened_at
FROM alerts a JOIN stations s ON s.id = a.station_id JOIN service_orders o ON o.alert_id = a.id
WHERE a.station_id {_IDS} AND a.opened_at >= ?2 AND a.opened_at < ?3
"""

_ORDERS = f"""
SELECT grp, count(*), sum(CASE WHEN done_at <= deadline THEN 1 ELSE 0 END) FROM (
    SELECT {{g}} AS grp, o.scheduled_at + o.duration_min * 60 + ?4 AS deadline,
           (SELECT min(e.at) FROM service_order_events e
            WHERE e.order_id = o.id AND e.to_status = 'done') AS done_at
    FROM service_orders o JOIN stations s ON s.id = o.station_id
    WHERE o.station_id {_IDS} AND o.status <> 'cancelled'
      AND o.scheduled_at >= ?5 AND o.scheduled_at < ?3
) WHERE deadline >= ?2 AND deadline < ?3 GROUP BY grp
"""

_VISITS = f"""
SELECT {{g}}, count(*), sum(CASE WHEN t.state = 'done' AND t.done_at < t.overdue_at
                              THEN 1 ELSE 0 END)
FROM visit_tasks t JOIN stations s ON s.id = t.station_id
WHERE t.station_id {_IDS} AND t.overdue_at >= ?2 AND t.overdue_at < ?3 GROUP BY 1
"""

_RATINGS = f"""
SELECT {{g}}, count(*), sum(r.score) FROM ratings r JOIN stations s ON s.id = r.station_id
WHERE r.station_id {_IDS} AND r.created_at >= ?2 AND r.created_at < ?3 GROUP BY 1
"""


class SqliteServiceKpi(SqliteBase):
    """:class:`hub.store.protocols.service_kpi.ServiceKpiStore` on SQLite."""

    def kpi_arrivals(
        self,
        station_ids: Sequence[str],
        start: float,
        end: float,
        by: KpiGroup,
        *,
        total: bool = False,
    ) -> dict[str, Durations]:
        rows = self._query(_ARRIVALS.format(g=_GROUP[by]), (_ids(station_ids), start, end))
        found: dict[str, list[float]] = defaultdict(list)
        for group, seconds in rows:
            if seconds is not None:
                for g in (group, ALL) if total and by != "all" else (group,):
                    found[g].append(seconds)
        return {g: Durations(len(v), *percentiles(v, KPI_PERCENTILES)) for g, v in found.items()}

    def kpi_orders_on_time(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup,
        grace_s: float,
    ) -> dict[str, OnTimeFigures]:  # fmt: skip
        params = (_ids(station_ids), start, end, grace_s, start - MAX_ORDER_S - grace_s)
        rows = self._query(_ORDERS.format(g=_GROUP[by]), params)
        return {g: OnTimeFigures(int(n), int(ok or 0)) for g, n, ok in rows}

    def kpi_visits_on_schedule(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup
    ) -> dict[str, OnTimeFigures]:
        rows = self._query(_VISITS.format(g=_GROUP[by]), (_ids(station_ids), start, end))
        return {g: OnTimeFigures(int(n), int(ok or 0)) for g, n, ok in rows}

    def kpi_ratings(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup
    ) -> dict[str, RatingFigures]:
        rows = self._query(_RATINGS.format(g=_GROUP[by]), (_ids(station_ids), start, end))
        return {g: RatingFigures(int(n), int(total or 0)) for g, n, total in rows}


def _ids(station_ids: Sequence[str]) -> str:
    return json.dumps(list(station_ids))
