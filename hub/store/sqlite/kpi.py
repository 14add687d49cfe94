"""KPI aggregates on SQLite: counts in SQL, percentiles in Python over the selected
durations (SQLite has no ``percentile_cont``; :func:`hub.kpi.maths.percentile_cont` is
PostgreSQL's arithmetic, so both back-ends agree)."""

from __future__ import annotations

import json
from collections import defaultdict

from hub.store.protocols.kpi import AlertFigures, KpiScope, UptimeFigures
from hub.store.shared_kpi import GROUP_COLUMN, durations_of
from hub.store.sqlite.connection import SqliteBase

_ALERTS = (
    "SELECT {g}, a.kind, a.outcome, a.ack_s, a.resolve_s FROM alerts a"
    " JOIN stations s ON s.id = a.station_id"
    " WHERE a.station_id IN (SELECT value FROM json_each(?1))"
    " AND a.opened_at >= ?2 AND a.opened_at < ?3"
)

# The devices of the stations' residents; each one's status entries in the period and the
# last one before it; a segment from each entry to the next (or the period's end).
_UPTIME = """
WITH dev AS (
    SELECT d.id AS device_id, {g} AS g FROM devices d
    JOIN residents r ON r.id = d.resident_id JOIN stations s ON s.id = r.station_id
    WHERE r.station_id IN (SELECT value FROM json_each(?1))
), log AS (
    SELECT l.id, l.device_id, l.online, l.at FROM dev
    JOIN status_log l ON l.device_id = dev.device_id AND l.at >= ?2 AND l.at < ?3
    UNION ALL
    SELECT l.id, l.device_id, l.online, l.at FROM dev JOIN status_log l ON l.id = (
        SELECT l2.id FROM status_log l2 WHERE l2.device_id = dev.device_id AND l2.at < ?2
        ORDER BY l2.at DESC, l2.id DESC LIMIT 1)
), seg AS (
    SELECT device_id, online, max(at, ?2) AS a,
           coalesce(lead(at) OVER (PARTITION BY device_id ORDER BY at, id), ?3) AS b
    FROM log
)
SELECT dev.g, sum(CASE WHEN seg.online THEN seg.b - seg.a ELSE 0 END), sum(seg.b - seg.a),
       count(DISTINCT seg.device_id)
FROM seg JOIN dev ON dev.device_id = seg.device_id WHERE seg.b > seg.a GROUP BY dev.g
"""


class SqliteKpi(SqliteBase):
    """:class:`hub.store.protocols.kpi.KpiStore` on SQLite."""

    def kpi_alerts(self, scope: KpiScope) -> dict[str, AlertFigures]:
        rows = self._query(_ALERTS.format(g=GROUP_COLUMN[scope.by]), kpi_params(scope))
        kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        acks: dict[str, list[float]] = defaultdict(list)
        resolves: dict[str, list[float]] = defaultdict(list)
        for group, kind, outcome, ack_s, resolve_s in rows:
            for g in scope.groups(group):
                kinds[g][kind] += 1
                if outcome is not None:
                    outcomes[g][outcome] += 1
                if ack_s is not None:
                    acks[g].append(ack_s)
                if resolve_s is not None and outcome != "self_cleared":
                    resolves[g].append(resolve_s)
        return {
            g: AlertFigures(
                sum(k.values()),
                dict(k),
                dict(outcomes[g]),
                durations_of(acks[g]),
                durations_of(resolves[g]),
            )
            for g, k in kinds.items()
        }

    def kpi_uptime(self, scope: KpiScope) -> dict[str, UptimeFigures]:
        rows = self._query(_UPTIME.format(g=GROUP_COLUMN[scope.by]), kpi_params(scope))
        return {g: UptimeFigures(float(on or 0.0), float(known or 0.0), int(n))
                for g, on, known, n in rows}  # fmt: skip


def kpi_params(scope: KpiScope) -> tuple[str, float, float]:
    """The scope's stations (a JSON array, ``?1``) and period (``?2``, ``?3``)."""
    return json.dumps(list(scope.station_ids)), scope.start, scope.end
