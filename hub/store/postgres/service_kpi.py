"""Service KPIs on PostgreSQL: counts, sums and ``percentile_cont`` in SQL. Durations are
differences of ``timestamptz`` values (exact microseconds) before they become seconds."""

from __future__ import annotations

from typing import Any

from hub.store.postgres.codec import to_dt
from hub.store.postgres.connection import PostgresBase
from hub.store.postgres.kpi import kpi_params
from hub.store.protocols.kpi import ALL, KPI_PERCENTILES, Durations, KpiScope
from hub.store.protocols.service_kpi import MAX_ORDER_S, OnTimeFigures, RatingFigures
from hub.store.shared_kpi import GROUP_COLUMN, durations_from

# The first step of an order to a status, read per order from the partial index on
# (to_status, order_id, at) of migration 0019 (index-only): a correlated subquery scanning
# each order's whole audit trail cost about 10 µs an order (bench/kpi.py).
_FIRST = (
    "LATERAL (SELECT min(e.at) AS at FROM service_order_events e"
    " WHERE e.to_status = '{step}' AND e.order_id = o.id) {alias}"
)

# each alert's emergency visit and its first check-in, from the alert's opening; {sets}:
# the groups alone, or with the total as well (its group comes back NULL)
_ARRIVALS = f"""
WITH arr AS (
    SELECT {{g}} AS g, extract(epoch FROM arrived.at - a.opened_at)::float8 AS s
    FROM alerts a JOIN stations s ON s.id = a.station_id
    JOIN service_orders o ON o.alert_id = a.id
    CROSS JOIN {_FIRST.format(step="arrived", alias="arrived")}
    WHERE a.station_id = ANY(%(ids)s) AND a.opened_at >= %(start)s AND a.opened_at < %(end)s
      AND arrived.at IS NOT NULL
)
SELECT g, count(*), percentile_cont(%(ps)s) WITHIN GROUP (ORDER BY s)
FROM arr GROUP BY GROUPING SETS {{sets}}
"""

_ORDERS = f"""
SELECT g, count(*), count(*) FILTER (WHERE done_at <= deadline) FROM (
    SELECT {{g}} AS g, done.at AS done_at,
           o.scheduled_at + make_interval(secs => o.duration_min * 60 + %(grace)s) AS deadline
    FROM service_orders o JOIN stations s ON s.id = o.station_id
    CROSS JOIN {_FIRST.format(step="done", alias="done")}
    WHERE o.station_id = ANY(%(ids)s) AND o.status <> 'cancelled'
      AND o.scheduled_at >= %(lo)s AND o.scheduled_at < %(end)s
) x WHERE deadline >= %(start)s AND deadline < %(end)s GROUP BY g
"""

_VISITS = """
SELECT {g}, count(*), count(*) FILTER (WHERE t.state = 'done' AND t.done_at < t.overdue_at)
FROM visit_tasks t JOIN stations s ON s.id = t.station_id
WHERE t.station_id = ANY(%(ids)s) AND t.overdue_at >= %(start)s AND t.overdue_at < %(end)s
GROUP BY 1
"""

_RATINGS = """
SELECT {g}, count(*), sum(r.score) FROM ratings r JOIN stations s ON s.id = r.station_id
WHERE r.station_id = ANY(%(ids)s) AND r.created_at >= %(start)s AND r.created_at < %(end)s
GROUP BY 1
"""


class PostgresServiceKpi(PostgresBase):
    """:class:`hub.store.protocols.service_kpi.ServiceKpiStore` on PostgreSQL."""

    def _kpi_rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._conn("service kpi") as conn:
            conn.execute("SET LOCAL jit = off")  # as for the alert KPIs (bench/kpi.py)
            return conn.execute(sql, params).fetchall()

    def kpi_arrivals(self, scope: KpiScope) -> dict[str, Durations]:
        sets = "((g), ())" if scope.adds_total else "((g))"
        params = kpi_params(scope) | {"ps": list(KPI_PERCENTILES)}
        rows = self._kpi_rows(_ARRIVALS.format(g=GROUP_COLUMN[scope.by], sets=sets), params)
        return {(ALL if g is None else g): durations_from(n, ps) for g, n, ps in rows}

    def kpi_orders_on_time(self, scope: KpiScope, grace_s: float) -> dict[str, OnTimeFigures]:
        params = kpi_params(scope) | {
            "grace": float(grace_s), "lo": to_dt(scope.start - MAX_ORDER_S - grace_s)}  # fmt: skip
        rows = self._kpi_rows(_ORDERS.format(g=GROUP_COLUMN[scope.by]), params)
        return {g: OnTimeFigures(n, ok) for g, n, ok in rows}

    def kpi_visits_on_schedule(self, scope: KpiScope) -> dict[str, OnTimeFigures]:
        rows = self._kpi_rows(_VISITS.format(g=GROUP_COLUMN[scope.by]), kpi_params(scope))
        return {g: OnTimeFigures(n, ok) for g, n, ok in rows}

    def kpi_ratings(self, scope: KpiScope) -> dict[str, RatingFigures]:
        rows = self._kpi_rows(_RATINGS.format(g=GROUP_COLUMN[scope.by]), kpi_params(scope))
        return {g: RatingFigures(n, int(total or 0)) for g, n, total in rows}
