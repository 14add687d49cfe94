"""KPIs of the community services: how soon someone reached the home after an alarm,
orders completed on time, visits done on schedule and what families thought of them.

Asked of a :class:`~hub.store.protocols.kpi.KpiScope` and grouped like
:mod:`hub.store.protocols.kpi` (per station, per district, or ``"*"`` for all asked about
together); only the arrival percentiles answer ``scope.total`` themselves (counts and sums
add up, and :mod:`hub.kpi` sums the groups). What each figure means is written in ``docs/kpi.md``;
:mod:`hub.kpi.service_metrics` turns them into KPI columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from hub.store.protocols.kpi import Durations, KpiScope

MAX_ORDER_S: Final = 1440 * 60
"""The longest service (``services.duration_min`` is at most a day): how long before a
period an order may start and still fall due in it."""


@dataclass(frozen=True, slots=True)
class OnTimeFigures:
    """How many things fell due in the period and how many of them were done in time."""

    due: int = 0
    on_time: int = 0


@dataclass(frozen=True, slots=True)
class RatingFigures:
    """How many ratings were given in the period and the sum of their scores (the average
    is their ratio: sums add up over groups, averages do not)."""

    n: int = 0
    score_sum: int = 0


@runtime_checkable
class ServiceKpiStore(Protocol):
    """Read-only service KPI aggregates (both back-ends give identical figures)."""

    def kpi_arrivals(self, scope: KpiScope) -> dict[str, Durations]:
        """Time to arrive: for the alerts of the scope's stations opened in its period
        that got an emergency-visit order, the seconds from the alert's opening to the
        order's first ``arrived`` step, with p50 and p90; with ``scope.total`` also under
        ``"*"`` (in the same pass). Groups without any arrival are absent."""
        ...

    def kpi_orders_on_time(self, scope: KpiScope, grace_s: float) -> dict[str, OnTimeFigures]:
        """Orders not cancelled whose deadline (``scheduled_at`` + duration + ``grace_s``)
        falls in the scope's period, and those whose first ``done`` step came no later
        than it. Groups without any are absent."""
        ...

    def kpi_visits_on_schedule(self, scope: KpiScope) -> dict[str, OnTimeFigures]:
        """Visit and follow-up tasks whose window closed (``overdue_at``) in the scope's
        period, and those recorded (``done_at``) before it closed."""
        ...

    def kpi_ratings(self, scope: KpiScope) -> dict[str, RatingFigures]:
        """Ratings of visits and orders first given (``created_at``) in the scope's
        period, with their current scores."""
        ...
