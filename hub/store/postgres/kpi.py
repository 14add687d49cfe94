"""KPI aggregates on PostgreSQL: counts and ``percentile_cont`` in SQL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hub.store.postgres.codec import to_dt
from hub.store.postgres.connection import PostgresBase
from hub.store.protocols.kpi import ALL, KPI_PERCENTILES, AlertFigures, KpiScope, UptimeFigures
from hub.store.shared_kpi import GROUP_COLUMN, durations_from

_FROM = (
    " FROM alerts a JOIN stations s ON s.id = a.station_id"
    " WHERE a.station_id = ANY(%(ids)s) AND a.opened_at >= %(start)s AND a.opened_at < %(end)s"
)
# {sets}: the groups alone, or with the total as well (its group comes back NULL)
_COUNTS = "SELECT {g} AS g, a.kind, a.outcome, count(*)" + _FROM + " GROUP BY GROUPING SETS {sets}"
_PERSON = "a.outcome <> 'self_cleared'"
_TIMES = (
    "SELECT {g} AS g, count(a.ack_s),"
    " percentile_cont(%(ps)s) WITHIN GROUP (ORDER BY a.ack_s),"
    f" count(a.resolve_s) FILTER (WHERE {_PERSON}),"
    " percentile_cont(%(ps)s) WITHIN GROUP (ORDER BY a.resolve_s)"
    f" FILTER (WHERE {_PERSON})" + _FROM + " GROUP BY GROUPING SETS {sets}"
)

# Per device, through its index on (device_id, at): the last status before the period
# and those in it, a segment from each to the next (or the period's end), summed as
# intervals (exact microseconds) before becoming seconds. A per-device LATERAL sorts a few
# dozen rows at a time; one window over every device's history sorted a million rows on
# disk (bench/kpi.py).
_UPTIME = """
WITH dev AS (
    SELECT d.id AS device_id, {g} AS g FROM devices d
    JOIN residents r ON r.id = d.resident_id JOIN stations s ON s.id = r.station_id
    WHERE r.station_id = ANY(%(ids)s)
)
SELECT dev.g, coalesce(sum(x.on_s), 0), sum(x.known_s), count(*)
FROM dev CROSS JOIN LATERAL (
    SELECT extract(epoch FROM coalesce(sum(b - a) FILTER (WHERE online), '0'))::float8 AS on_s,
           extract(epoch FROM sum(b - a))::float8 AS known_s
    FROM (
        SELECT l.online, greatest(l.at, %(start)s) AS a,
               coalesce(lead(l.at) OVER (ORDER BY l.at, l.id), %(end)s) AS b
        FROM status_log l
        WHERE l.device_id = dev.device_id AND l.at < %(end)s AND l.at >= coalesce(
            (SELECT max(l2.at) FROM status_log l2
             WHERE l2.device_id = dev.device_id AND l2.at < %(start)s), %(start)s)
    ) seg WHERE b > a
) x
WHERE x.known_s > 0
GROUP BY dev.g
"""


class PostgresKpi(PostgresBase):
    """:class:`hub.store.protocols.kpi.KpiStore` on PostgreSQL."""

    def kpi_alerts(self, scope: KpiScope) -> dict[str, AlertFigures]:
        params = kpi_params(scope) | {"ps": list(KPI_PERCENTILES)}
        g = GROUP_COLUMN[scope.by]
        kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        both = scope.adds_total
        count_sets = (
            "((g, a.kind, a.outcome), (a.kind, a.outcome))" if both else "((g, a.kind, a.outcome))"
        )
        time_sets = "((g), ())" if both else "((g))"
        with self._conn("kpi alerts") as conn:
            conn.execute("SET LOCAL jit = off")
            counts = conn.execute(_COUNTS.format(g=g, sets=count_sets), params).fetchall()
            times = conn.execute(_TIMES.format(g=g, sets=time_sets), params).fetchall()
            counts = [(ALL if grp is None else grp, *rest) for grp, *rest in counts]
            times = [(ALL if grp is None else grp, *rest) for grp, *rest in times]
        for group, kind, outcome, n in counts:
            kinds[group][kind] += n
            if outcome is not None:
                outcomes[group][outcome] += n
        durations = {row[0]: (durations_from(row[1], row[2]), durations_from(row[3], row[4]))
                     for row in times}  # fmt: skip
        return {
            grp: AlertFigures(sum(k.values()), dict(k), dict(outcomes[grp]), *durations[grp])
            for grp, k in kinds.items()
        }

    def kpi_uptime(self, scope: KpiScope) -> dict[str, UptimeFigures]:
        with self._conn("kpi uptime") as conn:
            # JIT compiling the per-device subquery cost more than it saved (bench/kpi.py)
            conn.execute("SET LOCAL jit = off")
            sql = _UPTIME.format(g=GROUP_COLUMN[scope.by])
            rows = conn.execute(sql, kpi_params(scope)).fetchall()
        return {g: UptimeFigures(on or 0.0, known or 0.0, n) for g, on, known, n in rows}


def kpi_params(scope: KpiScope) -> dict[str, Any]:
    """The scope's stations and period as the KPI queries' named parameters."""
    return {"ids": list(scope.station_ids), "start": to_dt(scope.start), "end": to_dt(scope.end)}
