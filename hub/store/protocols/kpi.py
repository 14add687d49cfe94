"""Station KPIs: aggregates over alerts and device status per station, district or all.

The store answers with figures per *group*: a station id, a district id, or ``"*"`` for
everything asked about together (a district's or a city's total). What the figures mean
is written in ``docs/kpi.md``; :mod:`hub.kpi` turns them into the KPI table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, runtime_checkable

KpiGroup = Literal["station", "district", "all"]
"""How rows are grouped: per station, per district, or one group ``"*"`` for all."""

ALL: Final = "*"
"""The group id of ``by="all"``."""

KPI_PERCENTILES: Final = (0.5, 0.9)
"""The percentiles the store computes of times to acknowledge and to resolve."""


@dataclass(frozen=True, slots=True)
class KpiScope:
    """What KPI figures are asked of: the stations ``station_ids`` over the half-open period
    ``[start, end)``, grouped ``by``; with ``total``, all of them together under
    :data:`ALL` as well.

    >>> KpiScope(["st-1"], 0.0, 60.0, "station", total=True).groups("st-1")
    ('st-1', '*')
    >>> KpiScope(["st-1"], 0.0, 60.0, "all", total=True).groups("*")
    ('*',)
    """

    station_ids: Sequence[str]
    start: float
    end: float
    by: KpiGroup
    total: bool = False

    @property
    def adds_total(self) -> bool:
        """A total is wanted beside the groups (with ``by="all"`` the one group is it)."""
        return self.total and self.by != "all"

    def groups(self, group: str) -> tuple[str, ...]:
        """The groups a row of ``group`` counts in: its own, and the total when wanted."""
        return (group, ALL) if self.adds_total else (group,)


@dataclass(frozen=True, slots=True)
class Durations:
    """How many durations there were and their p50 and p90 (seconds), None when none."""

    n: int = 0
    p50: float | None = None
    p90: float | None = None


@dataclass(frozen=True, slots=True)
class AlertFigures:
    """The alerts of one group opened in the period.

    ``by_outcome`` counts those resolved (by anyone) per outcome; ``ack`` is opening to
    acknowledgement of the acknowledged ones; ``resolve`` is opening to resolution of
    those a person resolved (outcome other than ``self_cleared``).
    """

    opened: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_outcome: dict[str, int] = field(default_factory=dict)
    ack: Durations = Durations()
    resolve: Durations = Durations()


@dataclass(frozen=True, slots=True)
class UptimeFigures:
    """Device time in the period: seconds known online, seconds with a known state, and
    how many devices had any."""

    online_s: float = 0.0
    known_s: float = 0.0
    devices: int = 0


@runtime_checkable
class KpiStore(Protocol):
    """Read-only KPI aggregates (both back-ends give identical figures)."""

    def kpi_alerts(self, scope: KpiScope) -> dict[str, AlertFigures]:
        """Alerts of the scope's stations opened in its period, per group, and with
        ``scope.total`` of all of them under :data:`ALL` too (in the same pass); groups
        without any alert are absent."""
        ...

    def kpi_uptime(self, scope: KpiScope) -> dict[str, UptimeFigures]:
        """Online time of the devices of the scope's stations' residents over its period
        from the status history (``status_log``); groups without any are absent. No
        total: seconds and devices add up, and :mod:`hub.kpi` sums the groups."""
        ...
