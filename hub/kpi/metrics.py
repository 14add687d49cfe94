"""Metric providers: the sources of the KPI table's columns.

A provider asks the store for its figures over some stations and a period, grouped per
station, per district or all together (:data:`~hub.store.base.KpiGroup`), and returns its
columns (:class:`Metric`) and a value per group and column. The table shows the columns
of every provider in :data:`PROVIDERS` order, so a new source is one more provider here
and nothing else changes; those of the community services (time to arrive, orders on
time, visits on schedule, ratings) are in :mod:`hub.kpi.service_metrics`.

What each metric means, exactly as computed, is written in ``docs/kpi.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.kpi.columns import Figures, Metric, MetricProvider, Unit, Value, with_summed_total
from hub.kpi.maths import false_alarm_ratio, ratio
from hub.kpi.service_metrics import arrival_metrics, order_metrics, rating_metrics, visit_metrics
from hub.store.base import AlertFigures, KpiScope, Store, UptimeFigures

__all__ = [
    "PROVIDERS",
    "Figures",
    "Metric",
    "MetricProvider",
    "Unit",
    "Value",
    "alert_metrics",
    "uptime_metrics",
]


def _by_frequency(counts: Sequence[dict[str, int]]) -> list[str]:
    """Keys by their total over ``counts``, most frequent first, then by name."""
    total: dict[str, int] = {}
    for c in counts:
        for k, n in c.items():
            total[k] = total.get(k, 0) + n
    return sorted(total, key=lambda k: (-total[k], k))


def alert_metrics(store: Store, scope: KpiScope) -> Figures:
    """Alarms (by kind), times to acknowledge and to resolve, outcomes, false alarms."""
    # percentiles do not add up: the store computes the total in the same pass
    figures: dict[str, AlertFigures] = store.kpi_alerts(scope)
    kinds = _by_frequency([f.by_kind for f in figures.values()])
    outcomes = _by_frequency([f.by_outcome for f in figures.values()])
    columns = [
        Metric("alarms.total", "count", "kpi.alarms_total"),
        *(Metric(f"alarms.{k}", "count", f"kind.{k}", "kpi.alarms") for k in kinds),
        Metric("ack.n", "count", "kpi.ack_n"),
        Metric("ack.p50_s", "seconds", "kpi.ack_p50"),
        Metric("ack.p90_s", "seconds", "kpi.ack_p90"),
        Metric("resolve.n", "count", "kpi.resolve_n"),
        Metric("resolve.p50_s", "seconds", "kpi.resolve_p50"),
        Metric("resolve.p90_s", "seconds", "kpi.resolve_p90"),
        Metric("false_alarm.ratio", "ratio", "kpi.false_alarm_ratio"),
        *(Metric(f"outcome.{o}", "count", f"outcome.{o}", "kpi.outcomes") for o in outcomes),
    ]
    values: dict[str, dict[str, Value]] = {}
    for group, f in figures.items():
        row: dict[str, Value] = {"alarms.total": f.opened}
        row |= {f"alarms.{k}": f.by_kind.get(k, 0) for k in kinds}
        row |= {"ack.n": f.ack.n, "ack.p50_s": f.ack.p50, "ack.p90_s": f.ack.p90,
                "resolve.n": f.resolve.n, "resolve.p50_s": f.resolve.p50,
                "resolve.p90_s": f.resolve.p90,
                "false_alarm.ratio": false_alarm_ratio(f.by_outcome)}  # fmt: skip
        row |= {f"outcome.{o}": f.by_outcome.get(o, 0) for o in outcomes}
        values[group] = row
    return Figures(columns, values)


def uptime_metrics(store: Store, scope: KpiScope) -> Figures:
    """Device uptime: the share of known device time spent online."""
    figures: dict[str, UptimeFigures] = store.kpi_uptime(scope)
    # seconds and devices add up (a device is in one group)
    with_summed_total(figures, scope, UptimeFigures)
    columns = [Metric("uptime.ratio", "ratio", "kpi.uptime_ratio"),
               Metric("uptime.devices", "count", "kpi.uptime_devices")]  # fmt: skip
    values: dict[str, dict[str, Value]] = {
        g: {"uptime.ratio": ratio(f.online_s, f.known_s), "uptime.devices": f.devices}
        for g, f in figures.items()
    }
    return Figures(columns, values)


PROVIDERS: tuple[MetricProvider, ...] = (
    alert_metrics, arrival_metrics, uptime_metrics, order_metrics, visit_metrics,
    rating_metrics,
)  # fmt: skip
"""The sources of the KPI table, in column order."""
