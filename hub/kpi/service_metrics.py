"""Metric providers of the community services: time to arrive after an alarm, orders
completed on time, visits done on schedule, and the families' ratings.

Exact definitions in ``docs/kpi.md``. Counts and sums add up over stations, so a total is
the sum of its groups; the arrival percentiles do not, and the store computes their total
in the same pass.
"""

from __future__ import annotations

from typing import Final

from hub.kpi.columns import Figures, Metric, Value, with_summed_total
from hub.kpi.maths import ratio
from hub.store.base import KpiScope, OnTimeFigures, RatingFigures, Store

ORDER_GRACE_S: Final = 30 * 60
"""How late an order may be done and still count as on time: its scheduled start plus its
duration plus this grace (travel and a visit running a little long are normal)."""


def arrival_metrics(store: Store, scope: KpiScope) -> Figures:
    """Time from an alarm's opening to the emergency visitor's check-in at the home."""
    got = store.kpi_arrivals(scope)
    columns = [Metric("arrive.n", "count", "kpi.arrive_n"),
               Metric("arrive.p50_s", "seconds", "kpi.arrive_p50"),
               Metric("arrive.p90_s", "seconds", "kpi.arrive_p90")]  # fmt: skip
    values: dict[str, dict[str, Value]] = {
        g: {"arrive.n": d.n, "arrive.p50_s": d.p50, "arrive.p90_s": d.p90} for g, d in got.items()
    }
    return Figures(columns, values)


def _on_time(prefix: str, figures: dict[str, OnTimeFigures]) -> dict[str, dict[str, Value]]:
    return {g: {f"{prefix}.due": f.due, f"{prefix}.on_time": f.on_time,
                f"{prefix}.on_time_ratio": ratio(f.on_time, f.due)}
            for g, f in figures.items()}  # fmt: skip


def order_metrics(store: Store, scope: KpiScope) -> Figures:
    """Orders that fell due in the period and the share done on time."""
    figures = store.kpi_orders_on_time(scope, ORDER_GRACE_S)
    with_summed_total(figures, scope, OnTimeFigures)  # each order belongs to one group
    columns = [Metric("orders.due", "count", "kpi.orders_due"),
               Metric("orders.on_time", "count", "kpi.orders_on_time"),
               Metric("orders.on_time_ratio", "ratio", "kpi.orders_on_time_ratio")]  # fmt: skip
    return Figures(columns, _on_time("orders", figures))


def visit_metrics(store: Store, scope: KpiScope) -> Figures:
    """Visit and follow-up tasks whose window closed in the period, and the share recorded
    within it."""
    figures = store.kpi_visits_on_schedule(scope)
    with_summed_total(figures, scope, OnTimeFigures)  # each task belongs to one group
    columns = [Metric("visits.due", "count", "kpi.visits_due"),
               Metric("visits.on_time", "count", "kpi.visits_on_time"),
               Metric("visits.on_time_ratio", "ratio", "kpi.visits_on_time_ratio")]  # fmt: skip
    return Figures(columns, _on_time("visits", figures))


def rating_metrics(store: Store, scope: KpiScope) -> Figures:
    """The families' ratings of services and visits given in the period: how many, and
    their average score."""
    figures: dict[str, RatingFigures] = store.kpi_ratings(scope)
    with_summed_total(figures, scope, RatingFigures)  # sums add up; the average is their ratio
    columns = [Metric("rating.n", "count", "kpi.rating_n"),
               Metric("rating.avg", "score", "kpi.rating_avg")]  # fmt: skip
    values: dict[str, dict[str, Value]] = {
        g: {"rating.n": f.n, "rating.avg": ratio(f.score_sum, f.n)} for g, f in figures.items()
    }
    return Figures(columns, values)
