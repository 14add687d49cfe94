"""KPI aggregates on PostgreSQL: counts and ``percentile_cont`` in SQL."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from hub.store.postgres.codec import to_dt
from hub.store.postgres.connection import PostgresBase
from hub.store.protocols.kpi import (
    KPI_PERCENTILES,
    AlertFigures,
    Durations,
    KpiGroup,
    UptimeFigures,
)

_GROUP = {"station": "s.id", "district": "s.district_id", "all": "'*'"}
_FROM = (
    " FROM alerts a JOIN stations s ON s.id = a.station_id"
    " WHERE a.station_id = ANY(%(ids)s) AND a.opened_at >= %(start)s AND a.opened_at < %(end)s"
)
_COUNTS = "SELECT {g}, a.kind, a.outcome, count(*)" + _FROM + " GROUP BY 1, 2, 3"
_PERSON = "a.outcome <> 'self_cleared'"
_TIMES = (
    "SELECT {g}, count(a.ack_s), percentile_cont(%(ps)s) WITHIN GROUP (ORDER BY a.ack_s),"
    f" count(a.resolve_s) FILTER (WHERE {_PERSON}),"
    " percentile_cont(%(ps)s) WITHIN GROUP (ORDER BY a.resolve_s)"
    f" FILTER (WHERE {_PERSON})" + _FROM + " GROUP BY 1"
)

# See hub/store/sqlite/kpi.py; interval sums are exact (microseconds) until the last step.
_UPTIME = """
WITH dev AS (
    SELECT d.id AS device_id, {g} AS g FROM devices d
    JOIN residents r ON r.id = d.resident_id JOIN stations s ON s.id = r.station_id
    WHERE r.station_id = ANY(%(ids)s)
), log AS (
    SELECT l.id, l.device_id, l.online, l.at FROM dev
    JOIN status_log l ON l.device_id = dev.device_id AND l.at >= %(start)s AND l.at < %(end)s
    UNION ALL
    SELECT last.id, dev.device_id, last.online, last.at FROM dev CROSS JOIN LATERAL (
        SELECT l2.id, l2.online, l2.at FROM status_log l2
        WHERE l2.device_id = dev.device_id AND l2.at < %(start)s
        ORDER BY l2.at DESC, l2.id DESC LIMIT 1) last
), seg AS (
    SELECT device_id, online, greatest(at, %(start)s) AS a,
           coalesce(lead(at) OVER (PARTITION BY device_id ORDER BY at, id), %(end)s) AS b
    FROM log
)
SELECT dev.g,
       extract(epoch FROM coalesce(sum(seg.b - seg.a) FILTER (WHERE seg.online), '0'))::float8,
       extract(epoch FROM sum(seg.b - seg.a))::float8, count(DISTINCT seg.device_id)
FROM seg JOIN dev ON dev.device_id = seg.device_id GROUP BY dev.g
"""


class PostgresKpi(PostgresBase):
    """:class:`hub.store.protocols.kpi.KpiStore` on PostgreSQL."""

    def kpi_alerts(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup
    ) -> dict[str, AlertFigures]:
        params = {"ids": list(station_ids), "start": to_dt(start), "end": to_dt(end),
                  "ps": list(KPI_PERCENTILES)}  # fmt: skip
        g = _GROUP[by]
        kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        with self._conn("kpi alerts") as conn:
            counts = conn.execute(_COUNTS.format(g=g), params).fetchall()
            times = conn.execute(_TIMES.format(g=g), params).fetchall()
        for group, kind, outcome, n in counts:
            kinds[group][kind] += n
            if outcome is not None:
                outcomes[group][outcome] += n
        durations = {row[0]: (_durations(row[1], row[2]), _durations(row[3], row[4]))
                     for row in times}  # fmt: skip
        return {
            grp: AlertFigures(sum(k.values()), dict(k), dict(outcomes[grp]), *durations[grp])
            for grp, k in kinds.items()
        }

    def kpi_uptime(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup
    ) -> dict[str, UptimeFigures]:
        params = {"ids": list(station_ids), "start": to_dt(start), "end": to_dt(end)}
        with self._conn("kpi uptime") as conn:
            rows = conn.execute(_UPTIME.format(g=_GROUP[by]), params).fetchall()
        return {g: UptimeFigures(on or 0.0, known or 0.0, n) for g, on, known, n in rows}


def _durations(n: int, ps: list[float] | None) -> Durations:
    if not n or ps is None:
        return Durations()
    p50, p90 = ps
    return Durations(n, p50, p90)
