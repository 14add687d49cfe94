"""NEWS2 scoring, exactly as charted by the Royal College of Physicians (2017).

Source: Royal College of Physicians. *National Early Warning Score (NEWS) 2: Standardising
the assessment of acute-illness severity in the NHS.* Updated report of a working party.
London: RCP, 2017 — Chart 1 (the scoring system) and Chart 2 (clinical risk thresholds).

Chart 1, score for each band (a value on a band edge belongs to the band that names it):

===================== ====== ======= ======= ============ ========== ========== ========
parameter             3      2       1       0            1          2          3
===================== ====== ======= ======= ============ ========== ========== ========
respiration rate /min ≤8             9–11    12–20                   21–24      ≥25
SpO2 scale 1 %        ≤91    92–93   94–95   ≥96
SpO2 scale 2 %        ≤83    84–85   86–87   88–92,       93–94 on   95–96 on   ≥97 on
                                             ≥93 on air   oxygen     oxygen     oxygen
air or oxygen                                air                     oxygen
systolic BP mmHg      ≤90    91–100  101–110 111–219                            ≥220
pulse /min            ≤40            41–50   51–90        91–110     111–130    ≥131
consciousness                                alert                              CVPU
temperature °C        ≤35.0          35.1–   36.1–38.0    38.1–39.0  ≥39.1
                                     36.0
===================== ====== ======= ======= ============ ========== ========== ========

Chart 2: aggregate 0–4 is **low** risk, a score of 3 in any single parameter is
**low-medium**, 5–6 is **medium**, 7 or more is **high** (the higher band wins).

Device readings are not whole numbers, the chart's bands are. Before banding, a value is
rounded **to the nearest whole number, halves up** (HR 90.4 → 90 scores 0, HR 90.5 → 91
scores 1), temperature **to the nearest 0.1 °C, halves up** (38.04 → 38.0 scores 0,
38.05 → 38.1 scores 1). That is how a nurse would write the reading on the chart.

Devices do not report consciousness (ACVPU) or whether oxygen is given: consciousness not
assessed scores 0 and is listed as unscored; oxygen comes from the resident's clinical
settings (``on_oxygen``), air otherwise.

>>> aggregate(hr=112, spo2=95, temp=38.4).total
4
>>> aggregate(spo2=88).band
'low-medium'
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

RiskBand = Literal["low", "low-medium", "medium", "high"]
Consciousness = Literal["A", "C", "V", "P", "U"]

PARAMETERS: tuple[str, ...] = ("rr", "spo2", "oxygen", "sbp", "hr", "consciousness", "temp")
"""The seven NEWS2 parameters in chart order (``oxygen``: air or supplemental oxygen)."""
MEASURED: tuple[str, ...] = ("rr", "spo2", "sbp", "hr", "temp")
"""The parameters a device can measure."""
MISSING = -1
"""Score of a missing (non-finite) value in the array functions."""

# --- rounding onto the chart's resolution ----------------------------------------------


def chart_value(value: float, param: str) -> int:
    """The reading as written on the chart: whole units, temperature in tenths of a degree.

    Halves round up. The ``round(..., 6)`` first absorbs binary representation error, so
    38.05 (stored as 38.04999…) counts as the half it was meant to be.

    >>> chart_value(90.5, "hr"), chart_value(38.05, "temp")
    (91, 381)
    """
    if not math.isfinite(value):
        raise ValueError(f"{param} must be a finite number, not {value!r}")
    scaled = value * 10.0 if param == "temp" else value
    return math.floor(round(scaled, 6) + 0.5)


def _chart_array(values: NDArray[np.float64], param: str) -> NDArray[np.float64]:
    scaled = values * 10.0 if param == "temp" else values
    return np.floor(np.round(scaled, 6) + 0.5)


# --- Chart 1: the one encoding of its bands ------------------------------------------------

# Per row, the inclusive upper edge of each band (on the chart_value scale: whole units,
# temperature in tenths of a degree) and the band's score. The scalar functions and the
# vectorised ones below both read these, so the chart is written down once.
_TABLES: dict[str, tuple[tuple[float, ...], tuple[int, ...]]] = {
    "rr": ((8, 11, 20, 24, math.inf), (3, 1, 0, 2, 3)),
    "spo2_1": ((91, 93, 95, math.inf), (3, 2, 1, 0)),
    "spo2_2_air": ((83, 85, 87, math.inf), (3, 2, 1, 0)),
    "spo2_2_oxygen": ((83, 85, 87, 92, 94, 96, math.inf), (3, 2, 1, 0, 1, 2, 3)),
    "sbp": ((90, 100, 110, 219, math.inf), (3, 2, 1, 0, 3)),
    "hr": ((40, 50, 90, 110, 130, math.inf), (3, 1, 0, 1, 2, 3)),
    "temp": ((350, 360, 380, 390, math.inf), (3, 1, 0, 1, 2)),
}


def _band(table: str, value: float, param: str) -> int:
    edges, scores = _TABLES[table]
    return scores[bisect.bisect_left(edges, chart_value(value, param))]


def zero_band_start(param: str) -> int:
    """Lowest reading (chart scale) that scores 0 for ``param`` (SpO2 on scale 1): below it
    a deviation is low, above the zero band high.

    >>> zero_band_start("hr"), zero_band_start("temp")
    (51, 361)
    """
    edges, scores = _TABLES["spo2_1" if param == "spo2" else param]
    return int(edges[scores.index(0) - 1]) + 1


def score_rr(rr: float) -> int:
    """Respiration rate, breaths/min."""
    return _band("rr", rr, "rr")


def score_spo2_scale1(spo2: float) -> int:
    """SpO2 on scale 1 (the default), %."""
    return _band("spo2_1", spo2, "spo2")


def score_spo2_scale2(spo2: float, on_oxygen: bool) -> int:
    """SpO2 on scale 2 (target 88–92 %, e.g. hypercapnic respiratory failure), %.

    Above 92 % the score depends on the air/oxygen row: on air it scores 0, on oxygen
    93–94 scores 1, 95–96 scores 2, 97 or more scores 3.
    """
    return _band("spo2_2_oxygen" if on_oxygen else "spo2_2_air", spo2, "spo2")


def score_spo2(spo2: float, scale: int = 1, on_oxygen: bool = False) -> int:
    """SpO2 on the resident's scale (1 or 2)."""
    if scale == 1:
        return score_spo2_scale1(spo2)
    if scale == 2:
        return score_spo2_scale2(spo2, on_oxygen)
    raise ValueError(f"SpO2 scale must be 1 or 2, not {scale!r}")


def score_air_or_oxygen(on_oxygen: bool) -> int:
    """Air scores 0, supplemental oxygen scores 2."""
    return 2 if on_oxygen else 0


def score_sbp(sbp: float) -> int:
    """Systolic blood pressure, mmHg."""
    return _band("sbp", sbp, "sbp")


def score_pulse(hr: float) -> int:
    """Pulse, beats/min."""
    return _band("hr", hr, "hr")


def score_consciousness(level: str | None) -> int:
    """ACVPU: alert scores 0; new confusion, voice, pain or unresponsive score 3.

    ``None`` means not assessed (devices cannot assess it) and scores 0.
    """
    if level is None or level == "A":
        return 0
    if level in ("C", "V", "P", "U"):
        return 3
    raise ValueError(f"consciousness must be one of A, C, V, P, U, not {level!r}")


def score_temp(temp: float) -> int:
    """Temperature, °C (banded in tenths of a degree)."""
    return _band("temp", temp, "temp")


# --- Chart 2 ----------------------------------------------------------------------------


def risk_band(total: int, max_single: int) -> RiskBand:
    """Clinical risk from the aggregate and the largest single-parameter score.

    >>> risk_band(4, 3), risk_band(5, 3), risk_band(7, 2)
    ('low-medium', 'medium', 'high')
    """
    if total >= 7:
        return "high"
    if total >= 5:
        return "medium"
    if max_single >= 3:
        return "low-medium"
    return "low"


@dataclass(frozen=True, slots=True)
class News2:
    """An aggregate NEWS2 over the parameters that were available.

    ``scores`` holds the sub-score of every scored parameter (``oxygen`` always counts: it
    is known from the clinical settings); ``unscored`` lists the chart's parameters that
    had no value, so ``partial`` is true whenever the score is not the full NEWS2.
    """

    total: int
    band: RiskBand
    scores: Mapping[str, int] = field(default_factory=dict)
    unscored: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        return bool(self.unscored)


def _present(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def aggregate(
    *,
    rr: float | None = None,
    spo2: float | None = None,
    sbp: float | None = None,
    hr: float | None = None,
    temp: float | None = None,
    consciousness: str | None = None,
    on_oxygen: bool = False,
    spo2_scale: int = 1,
) -> News2:
    """NEWS2 over the values given; ``None`` or NaN means the parameter was not measured."""
    scores: dict[str, int] = {}
    if rr is not None and _present(rr):
        scores["rr"] = score_rr(rr)
    if spo2 is not None and _present(spo2):
        scores["spo2"] = score_spo2(spo2, spo2_scale, on_oxygen)
    scores["oxygen"] = score_air_or_oxygen(on_oxygen)
    if sbp is not None and _present(sbp):
        scores["sbp"] = score_sbp(sbp)
    if hr is not None and _present(hr):
        scores["hr"] = score_pulse(hr)
    if consciousness is not None:
        scores["consciousness"] = score_consciousness(consciousness)
    if temp is not None and _present(temp):
        scores["temp"] = score_temp(temp)
    total = sum(scores.values())
    unscored = tuple(p for p in PARAMETERS if p not in scores)
    return News2(total, risk_band(total, max(scores.values())), scores, unscored)


# --- vectorised: many readings at once --------------------------------------------------


def score_array(
    param: str, values: ArrayLike, *, spo2_scale: int = 1, on_oxygen: bool = False
) -> NDArray[np.int8]:
    """Sub-scores of many readings of one parameter; non-finite values give ``MISSING``.

    Equal to the scalar functions element by element.

    >>> score_array("hr", [40, 40.5, 90.4, np.nan]).tolist()
    [3, 1, 0, -1]
    """
    x = np.asarray(values, dtype=np.float64)
    if param == "spo2":
        if spo2_scale not in (1, 2):
            raise ValueError(f"SpO2 scale must be 1 or 2, not {spo2_scale!r}")
        key = "spo2_1" if spo2_scale == 1 else ("spo2_2_oxygen" if on_oxygen else "spo2_2_air")
    elif param in ("rr", "sbp", "hr", "temp"):
        key = param
    else:
        raise ValueError(f"no NEWS2 table for {param!r}")
    edges, band_scores = _TABLES[key]
    finite = np.isfinite(x)
    n = _chart_array(np.where(finite, x, 0.0), param)
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), n, side="left")
    out = np.asarray(band_scores, dtype=np.int8)[idx]
    return np.where(finite, out, np.int8(MISSING)).astype(np.int8)


def aggregate_array(
    values: Mapping[str, ArrayLike], *, spo2_scale: int = 1, on_oxygen: bool = False
) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
    """Aggregate NEWS2 and the largest single sub-score of many observation sets.

    ``values`` maps measured parameters (``rr``, ``spo2``, ``sbp``, ``hr``, ``temp``) to
    equally long arrays; NaN marks a missing value. Use :func:`risk_band` on the pair, or
    :func:`band_array` for codes.
    """
    unknown = set(values) - set(MEASURED)
    if unknown:
        raise ValueError(f"not NEWS2 measured parameters: {sorted(unknown)}")
    subs = [
        score_array(p, v, spo2_scale=spo2_scale, on_oxygen=on_oxygen) for p, v in values.items()
    ]
    if not subs:
        raise ValueError("no parameter given")
    stacked = np.maximum(np.stack(np.broadcast_arrays(*subs)), 0).astype(np.int64)
    total = stacked.sum(axis=0) + score_air_or_oxygen(on_oxygen)
    return total, stacked.max(axis=0).astype(np.int8)


BANDS: tuple[RiskBand, ...] = ("low", "low-medium", "medium", "high")
"""Band codes of :func:`band_array`, in order of risk."""


def band_array(total: ArrayLike, max_single: ArrayLike) -> NDArray[np.int8]:
    """Risk band codes (indices into :data:`BANDS`) of many aggregates."""
    t = np.asarray(total)
    m = np.asarray(max_single)
    return np.select([t >= 7, t >= 5, m >= 3], [3, 2, 1], 0).astype(np.int8)


__all__ = [
    "BANDS",
    "MEASURED",
    "MISSING",
    "PARAMETERS",
    "Consciousness",
    "News2",
    "RiskBand",
    "aggregate",
    "aggregate_array",
    "band_array",
    "chart_value",
    "risk_band",
    "score_air_or_oxygen",
    "score_array",
    "score_consciousness",
    "score_pulse",
    "score_rr",
    "score_sbp",
    "score_spo2",
    "score_spo2_scale1",
    "score_spo2_scale2",
    "score_temp",
    "zero_band_start",
]
