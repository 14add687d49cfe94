"""The KPI maths: percentiles and ratios over plain values (pure).

:func:`percentile_cont` is PostgreSQL's ``percentile_cont`` (linear interpolation between
the two nearest ranks, the same arithmetic in the same order), so the SQLite store, which
computes it here, and the PostgreSQL store, which computes it in SQL, give identical
results.

>>> percentile_cont([10.0, 20.0, 30.0, 40.0], 0.5)
25.0
>>> percentile_cont([10.0, 20.0, 30.0, 40.0], 0.9)
37.0
>>> percentile_cont([], 0.5) is None
True
>>> ratio(1, 4), ratio(3, 0)
(0.25, None)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

FALSE_ALARM_OUTCOMES: Final = frozenset({"false_alarm"})
"""Outcomes that count as a false alarm (see ``docs/kpi.md``)."""
JUDGED_EXCLUDED: Final = frozenset({"self_cleared", "test"})
"""Outcomes left out of the false-alarm ratio's denominator: nobody judged a self-cleared
alert, and a test is not an alarm."""


def percentile_cont(values: Iterable[float], p: float) -> float | None:
    """The ``p`` percentile (0 ≤ p ≤ 1) of ``values`` by linear interpolation, None when
    there are none. NaN values are refused (a duration is never NaN)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"percentile must be between 0 and 1, not {p}")
    ordered = sorted(values)
    if not ordered:
        return None
    if any(math.isnan(v) for v in ordered):
        raise ValueError("NaN has no rank")
    pos = p * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    if lo == hi:
        return ordered[lo]
    # PostgreSQL's float8_lerp: lo + pct * (hi - lo)
    return ordered[lo] + (pos - lo) * (ordered[hi] - ordered[lo])


def percentiles(values: Iterable[float], ps: Iterable[float]) -> list[float | None]:
    """Several percentiles of the same values (sorted once)."""
    ordered = sorted(values)
    return [percentile_cont(ordered, p) for p in ps]


def ratio(part: float, whole: float) -> float | None:
    """``part / whole``; None when ``whole`` is zero (no data is not 0 %)."""
    return part / whole if whole else None


def false_alarm_ratio(by_outcome: Mapping[str, int]) -> float | None:
    """False alarms among the alerts a person judged: outcome ``false_alarm`` over every
    outcome except ``self_cleared`` and ``test``.

    >>> false_alarm_ratio({"false_alarm": 1, "real_emergency": 3, "self_cleared": 5})
    0.25
    """
    judged = sum(n for o, n in by_outcome.items() if o not in JUDGED_EXCLUDED)
    false = sum(n for o, n in by_outcome.items() if o in FALSE_ALARM_OUTCOMES)
    return ratio(false, judged)
