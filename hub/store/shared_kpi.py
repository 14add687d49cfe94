"""What the KPI reads of both back-ends share, their SQL aside: the column each grouping
groups by, and durations made into :class:`~hub.store.protocols.kpi.Durations`.

PostgreSQL computes percentiles in SQL (``percentile_cont``); SQLite has none, so its
reads select the durations and :func:`durations_of` computes them with the same
arithmetic (:func:`hub.kpi.maths.percentiles`), so both back-ends agree.

>>> durations_of([30.0, 60.0, 90.0])
Durations(n=3, p50=60.0, p90=84.0)
>>> durations_from(0, None)
Durations(n=0, p50=None, p90=None)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from hub.kpi.maths import percentiles
from hub.store.protocols.kpi import KPI_PERCENTILES, Durations, KpiGroup

GROUP_COLUMN: Final[dict[KpiGroup, str]] = {
    "station": "s.id",
    "district": "s.district_id",
    "all": "'*'",
}
"""The SQL expression a grouping groups by (``s``: the stations joined to the rows)."""


def durations_of(values: Sequence[float]) -> Durations:
    """The count, p50 and p90 of ``values`` (SQLite: computed here)."""
    p50, p90 = percentiles(values, KPI_PERCENTILES)
    return Durations(len(values), p50, p90)


def durations_from(n: int, ps: Sequence[float] | None) -> Durations:
    """A count and the percentiles computed in SQL (PostgreSQL); none when ``n`` is 0."""
    if not n or ps is None:
        return Durations()
    p50, p90 = ps
    return Durations(n, p50, p90)
