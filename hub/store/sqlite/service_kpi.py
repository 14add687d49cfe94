"""Service KPIs on SQLite: counts and sums in SQL, percentiles in Python over the selected
durations (:func:`hub.kpi.maths.percentiles`, PostgreSQL's arithmetic, so both back-ends
agree)."""

from __future__ import annotations

from collections import defaultdict

from hub.store.protocols.kpi import Durations, KpiScope
from hub.store.protocols.service_kpi import MAX_ORDER_S, OnTimeFigures, RatingFigures
from hub.store.shared_kpi import GROUP_COLUMN, durations_of
from hub.store.sqlite.connection import SqliteBase
from hub.store.sqlite.kpi import kpi_params

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

    def kpi_arrivals(self, scope: KpiScope) -> dict[str, Durations]:
        rows = self._query(_ARRIVALS.format(g=GROUP_COLUMN[scope.by]), kpi_params(scope))
        found: dict[str, list[float]] = defaultdict(list)
        for group, seconds in rows:
            if seconds is not None:
                for g in scope.groups(group):
                    found[g].append(seconds)
        return {g: durations_of(v) for g, v in found.items()}

    def kpi_orders_on_time(self, scope: KpiScope, grace_s: float) -> dict[str, OnTimeFigures]:
        params = (*kpi_params(scope), grace_s, scope.start - MAX_ORDER_S - grace_s)
        rows = self._query(_ORDERS.format(g=GROUP_COLUMN[scope.by]), params)
        return {g: OnTimeFigures(int(n), int(ok or 0)) for g, n, ok in rows}

    def kpi_visits_on_schedule(self, scope: KpiScope) -> dict[str, OnTimeFigures]:
        rows = self._query(_VISITS.format(g=GROUP_COLUMN[scope.by]), kpi_params(scope))
        return {g: OnTimeFigures(int(n), int(ok or 0)) for g, n, ok in rows}

    def kpi_ratings(self, scope: KpiScope) -> dict[str, RatingFigures]:
        rows = self._query(_RATINGS.format(g=GROUP_COLUMN[scope.by]), kpi_params(scope))
        return {g: RatingFigures(int(n), int(total or 0)) for g, n, total in rows}
