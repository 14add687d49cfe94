"""NEWS2 scoring against the RCP 2017 chart: every band edge on both sides, rounding, risk
bands, and the vectorised functions against the scalar ones."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hub.detect import news2

# Each row of Chart 1 (RCP 2017) as (value, score) pairs on both sides of every band edge.
RR = [(3, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (70, 3)]
SPO2_1 = [(50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
SPO2_2_AIR = [(50, 3), (83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0), (93, 0),
              (97, 0), (100, 0)]  # fmt: skip
SPO2_2_OXYGEN = [(83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0), (93, 1), (94, 1),
                 (95, 2), (96, 2), (97, 3), (100, 3)]  # fmt: skip
SBP = [(50, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]
PULSE = [(20, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2),
         (130, 2), (131, 3), (250, 3)]  # fmt: skip
TEMP = [(30.0, 3), (35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1),
        (39.1, 2), (44.0, 2)]  # fmt: skip


@pytest.mark.parametrize(("value", "score"), RR)
def test_respiration_rate_band_edges(value: float, score: int) -> None:
    assert news2.score_rr(value) == score


@pytest.mark.parametrize(("value", "score"), SPO2_1)
def test_spo2_scale1_band_edges(value: float, score: int) -> None:
    assert news2.score_spo2_scale1(value) == score
    assert news2.score_spo2(value, 1, on_oxygen=True) == score  # scale 1 ignores oxygen


@pytest.mark.parametrize(("value", "score"), SPO2_2_AIR)
def test_spo2_scale2_on_air_band_edges(value: float, score: int) -> None:
    assert news2.score_spo2_scale2(value, on_oxygen=False) == score
    assert news2.score_spo2(value, 2, on_oxygen=False) == score


@pytest.mark.parametrize(("value", "score"), SPO2_2_OXYGEN)
def test_spo2_scale2_on_oxygen_band_edges(value: float, score: int) -> None:
    assert news2.score_spo2_scale2(value, on_oxygen=True) == score


def test_air_or_oxygen() -> None:
    assert news2.score_air_or_oxygen(False) == 0
    assert news2.score_air_or_oxygen(True) == 2


@pytest.mark.parametrize(("value", "score"), SBP)
def test_systolic_band_edges(value: float, score: int) -> None:
    assert news2.score_sbp(value) == score


@pytest.mark.parametrize(("value", "score"), PULSE)
def test_pulse_band_edges(value: float, score: int) -> None:
    assert news2.score_pulse(value) == score


@pytest.mark.parametrize(("value", "score"), TEMP)
def test_temperature_band_edges(value: float, score: int) -> None:
    assert news2.score_temp(value) == score


@pytest.mark.parametrize(("level", "score"), [(None, 0), ("A", 0), ("C", 3), ("V", 3),
                                              ("P", 3), ("U", 3)])  # fmt: skip
def test_consciousness(level: str | None, score: int) -> None:
    assert news2.score_consciousness(level) == score


@pytest.mark.parametrize(
    ("fn", "value", "score"),
    [
        (news2.score_pulse, 90.4, 0),  # rounds to 90
        (news2.score_pulse, 90.5, 1),  # halves up: 91
        (news2.score_pulse, 40.49, 3),
        (news2.score_pulse, 40.5, 1),
        (news2.score_rr, 8.5, 1),
        (news2.score_rr, 20.49, 0),
        (news2.score_spo2_scale1, 95.49, 1),
        (news2.score_spo2_scale1, 95.5, 0),
        (news2.score_sbp, 219.5, 3),
        (news2.score_sbp, 90.49, 3),
        (news2.score_temp, 35.04, 3),  # rounds to 35.0
        (news2.score_temp, 35.05, 1),  # 35.1 (binary 35.04999... still counts as the half)
        (news2.score_temp, 38.04, 0),
        (news2.score_temp, 38.05, 1),
        (news2.score_temp, 39.05, 2),
    ],
)
def test_non_integer_readings_round_half_up_onto_the_chart(
    fn: Callable[[float], int], value: float, score: int
) -> None:
    assert fn(value) == score


def test_bad_values_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="finite"):
        news2.score_pulse(math.nan)
    with pytest.raises(ValueError, match="scale"):
        news2.score_spo2(95, scale=3)
    with pytest.raises(ValueError, match="consciousness"):
        news2.score_consciousness("X")
    with pytest.raises(ValueError, match="NEWS2"):
        news2.score_array("glucose", [5.0])


@pytest.mark.parametrize(
    ("total", "single", "band"),
    [(0, 0, "low"), (4, 2, "low"), (3, 3, "low-medium"), (4, 3, "low-medium"), (5, 2, "medium"),
     (5, 3, "medium"), (6, 3, "medium"), (7, 2, "high"), (7, 3, "high"), (20, 3, "high")],
)  # fmt: skip
def test_risk_band_edges(total: int, single: int, band: str) -> None:
    assert news2.risk_band(total, single) == band


def test_aggregate_over_the_parameters_present() -> None:
    r = news2.aggregate(spo2=88)
    assert (r.total, r.band) == (3, "low-medium")
    assert r.partial
    assert set(r.unscored) == {"rr", "sbp", "hr", "consciousness", "temp"}
    r = news2.aggregate(rr=22, hr=115, temp=38.5)
    assert (r.total, r.band) == (5, "medium")
    r = news2.aggregate(rr=25, spo2=91, sbp=90, hr=131, temp=35.0, consciousness="V")
    assert (r.total, r.band) == (18, "high")
    assert r.unscored == ()
    assert not r.partial
    # NaN is "not measured"; oxygen is always scored (+2 on oxygen).
    r = news2.aggregate(hr=float("nan"), spo2=97, spo2_scale=2, on_oxygen=True)
    assert r.scores == {"spo2": 3, "oxygen": 2}
    assert (r.total, r.band) == (5, "medium")


def _values(rng: np.random.Generator, lo: float, hi: float, n: int, decimals: int) -> np.ndarray:
    """Random readings on a grid fine enough to hit halves (the rounding edge) often."""
    x = np.round(rng.uniform(lo, hi, n), decimals)
    x[rng.random(n) < 0.05] = np.nan
    return x


def _spo2(value: float, *, scale: int, oxygen: bool) -> int:
    return news2.score_spo2(value, scale, oxygen)


@pytest.mark.parametrize("seed", range(3))
def test_vectorised_scores_equal_the_scalar_ones(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cases: list[tuple[str, Callable[[float], int], np.ndarray, dict[str, Any]]] = [
        ("rr", news2.score_rr, _values(rng, 3, 70, 2000, 1), {}),
        ("sbp", news2.score_sbp, _values(rng, 50, 280, 2000, 1), {}),
        ("hr", news2.score_pulse, _values(rng, 20, 250, 2000, 2), {}),
        ("temp", news2.score_temp, _values(rng, 30, 44, 2000, 2), {}),
    ]
    cases += [
        (
            "spo2",
            functools.partial(_spo2, scale=scale, oxygen=oxygen),
            _values(rng, 50, 100, 2000, 1),
            {"spo2_scale": scale, "on_oxygen": oxygen},
        )
        for scale in (1, 2)
        for oxygen in (False, True)
    ]
    for param, scalar, x, kw in cases:
        got = news2.score_array(param, x, **kw)
        want = [news2.MISSING if np.isnan(v) else scalar(float(v)) for v in x]
        assert got.tolist() == want, param


@pytest.mark.parametrize("oxygen", [False, True])
def test_vectorised_aggregate_and_band_equal_the_scalar_ones(oxygen: bool) -> None:
    rng = np.random.default_rng(7)
    n = 1500
    vals = {
        "rr": _values(rng, 5, 35, n, 0),
        "spo2": _values(rng, 80, 100, n, 0),
        "sbp": _values(rng, 70, 240, n, 0),
        "hr": _values(rng, 30, 160, n, 0),
        "temp": _values(rng, 34, 41, n, 1),
    }
    total, single = news2.aggregate_array(vals, spo2_scale=2, on_oxygen=oxygen)
    bands = news2.band_array(total, single)
    for i in range(n):
        r = news2.aggregate(
            rr=float(vals["rr"][i]),
            spo2=float(vals["spo2"][i]),
            sbp=float(vals["sbp"][i]),
            hr=float(vals["hr"][i]),
            temp=float(vals["temp"][i]),
            spo2_scale=2,
            on_oxygen=oxygen,
        )
        assert int(total[i]) == r.total
        assert news2.BANDS[int(bands[i])] == r.band
