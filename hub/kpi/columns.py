"""What a metric provider answers: its columns and their values per group (pure types,
shared by :mod:`hub.kpi.metrics` and :mod:`hub.kpi.service_metrics`)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal, Protocol, TypeVar

from hub.store.base import (
    ALL_GROUPS,
    KpiScope,
    OnTimeFigures,
    RatingFigures,
    Store,
    UptimeFigures,
)

Unit = Literal["count", "seconds", "ratio", "score"]
"""``score``: an average rating, 1 to 5."""
Value = int | float | None


@dataclass(frozen=True, slots=True)
class Metric:
    """One column: its key in the values, unit, and label (an i18n key, shown after the
    label of ``section`` when there is one: "Alarms: Fall")."""

    key: str
    unit: Unit
    label: str
    section: str | None = None


@dataclass(frozen=True, slots=True)
class Figures:
    """A provider's answer: its columns and group id → column key → value."""

    columns: list[Metric] = field(default_factory=list)
    values: dict[str, dict[str, Value]] = field(default_factory=dict)


class MetricProvider(Protocol):
    """Figures of the scope's stations over its period grouped ``scope.by``, and, with
    ``scope.total``, of all of them together under the group
    :data:`~hub.store.base.ALL_GROUPS` too (a provider whose figures add up sums its groups
    with :func:`with_summed_total`; one with percentiles has the store compute it)."""

    def __call__(self, store: Store, scope: KpiScope) -> Figures: ...


Additive = TypeVar("Additive", UptimeFigures, OnTimeFigures, RatingFigures)


def with_summed_total(figures: dict[str, Additive], scope: KpiScope, kind: type[Additive]) -> None:
    """Add the total group to ``figures`` when the scope wants one: each field the sum of
    the groups' (figures that add up: every thing counted belongs to one group).

    >>> f = {"st-1": OnTimeFigures(2, 1), "st-2": OnTimeFigures(3, 3)}
    >>> with_summed_total(f, KpiScope(["st-1", "st-2"], 0.0, 1.0, "station", True), OnTimeFigures)
    >>> f[ALL_GROUPS]
    OnTimeFigures(due=5, on_time=4)
    """
    if scope.adds_total:
        parts = list(figures.values())
        figures[ALL_GROUPS] = kind(*(sum(getattr(p, x.name) for p in parts) for x in fields(kind)))
