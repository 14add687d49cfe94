"""Metric providers of the community services: time to arrive after an alarm, orders
completed on time, visits done on schedule, and the families' ratings.

Exact definitions in ``docs/kpi.md``. Counts and sums add up over stations, so a total is
the sum of its groups; the arrival percentiles do not, and the store computes their total
in the same pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from hub.kpi.columns import Figures, Metric, Value
from hub.kpi.maths import ratio
from hub.store.base import ALL_GROUPS, KpiGroup, OnTimeFigures, RatingFigures, Store

ORDER_GRACE_S: Final = 30 * 60
"""How late an order may be done and still count as on time: its scheduled start plus its
duration plus this grace (travel and a visit running a little long are normal)."""


def arrival_metrics(
    store: Store, station_ids: Sequence[str], start: float, end: float, by: KpiGroup,
    *, total: bool = False,
) -> Figures:  # fmt: skip
    """Time from an alarm's opening to the emergency visitor's check-in at the home."""
    got = store.kpi_arrivals(station_ids, start, end, by, total=total)
    columns = [Metric("arrive.n", "count", "kpi.arrive_n"),
               Metric("arrive.p50_s", "seconds", "kpi.arrive_p50"),
               Metric("arrive.p90_s", "seconds", "kpi.arrive_p90")]  # fmt: skip
    values: dict[str, dict[str, Value]] = {
        g: {"arrive.n": d.n, "arrive.p50_s": d.p50, "arrive.p90_s": d.p90} for g, d in got.items()
    }
    return Figures(columns, values)


def _with_total(figures: dict[str, OnTimeFigures], by: KpiGroup, total: bool) -> None:
    if total and by != "all":  # each order or task belongs to one group
        parts = list(figures.values())
        figures[ALL_GROUPS] = OnTimeFigures(sum(f.due for f in parts),
                                            sum(f.on_time for f in parts))  # fmt: skip


def _on_time(prefix: str, figures: dict[str, OnTimeFigures]) -> dict[str, dict[str, Value]]:
    return {g: {f"{prefix}.due": f.due, f"{prefix}.on_time": f.on_time,
                f"{prefix}.on_time_ratio": ratio(f.on_time, f.due)}
            for g, f in figures.items()}  # fmt: skip


def order_metrics(
    store: Store, station_ids: Sequence[str], start: float, end: float, by: KpiGroup,
    *, total: bool = False,
) -> Figures:  # fmt: skip
    """Orders that fell due in the period and the share done on time."""
    figures = store.kpi_orders_on_time(station_ids, start, end, by, ORDER_GRACE_S)
    _with_total(figures, by, total)
    columns = [Metric("orders.due", "count", "kpi.orders_due"),
               Metric("orders.on_time", "count", "kpi.orders_on_time"),
               Metric("orders.on_time_ratio", "ratio", "kpi.orders_on_time_ratio")]  # fmt: skip
    return Figures(columns, _on_time("orders", figures))


def visit_metrics(
    store: Store, station_ids: Sequence[str], start: float, end: float, by: KpiGroup,
    *, total: bool = False,
) -> Figures:  # fmt: skip
    """Visit and follow-up tasks whose window closed in the period, and the share recorded
    within it."""
    figures = store.kpi_visits_on_schedule(station_ids, start, end, by)
    _with_total(figures, by, total)
    columns = [Metric("visits.due", "count", "kpi.visits_due"),
               Metric("visits.on_time", "count", "kpi.visits_on_time"),
               Metric("visits.on_time_ratio", "ratio", "kpi.visits_on_time_ratio")]  # fmt: skip
    return Figures(columns, _on_time("visits", figures))


def rating_metrics(
    store: Store, station_ids: Sequence[str], start: float, end: float, by: KpiGroup,
    *, total: bool = False,
) -> Figures:  # fmt: skip
    """The families' ratings of services and visits given in the period: how many, and
    their average score."""
    figures: dict[str, RatingFigures] = store.kpi_ratings(station_ids, start, end, by)
    if total and by != "all":
        parts = list(figures.values())
        figures[ALL_GROUPS] = RatingFigures(sum(f.n for f in parts),
                                            sum(f.score_sum for f in parts))  # fmt: skip
    columns = [Metric("rating.n", "count", "kpi.rating_n"),
               Metric("rating.avg", "score", "kpi.rating_avg")]  # fmt: skip
    values: dict[str, dict[str, Value]] = {
        g: {"rating.n": f.n, "rating.avg": ratio(f.score_sum, f.n)} for g, f in figures.items()
    }
    return Figures(columns, values)
