"""KPIs of the community services: how soon someone reached the home after an alarm,
orders completed on time, visits done on schedule and what families thought of them.

Grouped like :mod:`hub.store.protocols.kpi` (per station, per district, or ``"*"`` for all
asked about together). What each figure means is written in ``docs/kpi.md``;
:mod:`hub.kpi.service_metrics` turns them into KPI columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

from hub.store.protocols.kpi import Durations, KpiGroup

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

    def kpi_arrivals(
        self,
        station_ids: Sequence[str],
        start: float,
        end: float,
        by: KpiGroup,
        *,
        total: bool = False,
    ) -> dict[str, Durations]:
        """Time to arrive: for the alerts of ``station_ids`` opened in ``[start, end)``
        that got an emergency-visit order, the seconds from the alert's opening to the
        order's first ``arrived`` step, with p50 and p90; with ``total`` also under
        ``"*"`` (in the same pass). Groups without any arrival are absent."""
        ...

    def kpi_orders_on_time(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup,
        grace_s: float,
    ) -> dict[str, OnTimeFigures]:  # fmt: skip
        """Orders not cancelled whose deadline (``scheduled_at`` + duration + ``grace_s``)
        falls in ``[start, end)``, and those whose first ``done`` step came no later than
        it. Groups without any are absent."""
        ...

    def kpi_visits_on_schedule(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup
    ) -> dict[str, OnTimeFigures]:
        """Visit and follow-up tasks whose window closed (``overdue_at``) in
        ``[start, end)``, and those recorded (``done_at``) before it closed."""
        ...

    def kpi_ratings(
        self, station_ids: Sequence[str], start: float, end: float, by: KpiGroup
    ) -> dict[str, RatingFigures]:
        """Ratings of visits and orders first given (``created_at``) in ``[start, end)``,
        with their current scores."""
        ...
