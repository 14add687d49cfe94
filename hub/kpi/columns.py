"""What a metric provider answers: its columns and their values per group (pure types,
shared by :mod:`hub.kpi.metrics` and :mod:`hub.kpi.service_metrics`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from hub.store.base import KpiGroup, Store

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
    """Figures of ``station_ids`` over ``[start, end)`` grouped ``by``, and, with ``total``,
    of all of them together under the group :data:`~hub.store.base.ALL_GROUPS` too (a
    provider whose figures add up sums its groups; one with percentiles asks again)."""

    def __call__(
        self,
        store: Store,
        station_ids: Sequence[str],
        start: float,
        end: float,
        by: KpiGroup,
        *,
        total: bool = False,
    ) -> Figures: ...
