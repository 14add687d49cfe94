"""Residents: daily routines (where they are, minute by minute) and physiology.

Routine: a resident sleeps from ``bed_h`` to ``wake_h`` with night toilet visits, washes,
eats three meals in the kitchen, goes out some mornings (and, when the scenario says so,
some evenings, coming home after 22:00 and going straight to bed), visits the toilet 4–7
times a day and otherwise moves between living room and bedroom. The plan is a ``uint8`` array of
places, one per minute of the run; incidents overwrite stretches of it (a fall: on the
floor; not up in the morning: still in bed).

Physiology: heart rate, SpO2, respiration, body temperature and blood pressure around the
resident's own baselines, with circadian variation (temperature lowest around 04:00 and
highest in the late afternoon, about ±0.3 °C, Refinetti & Menaker, Physiol Behav 51(3),
1992; a nocturnal blood-pressure dip of about 10–20 %, O'Brien et al., Lancet 332, 1988;
heart rate lower asleep and higher when moving) plus sensor noise. Ranges of the baselines
follow healthy older adults (resting HR 55–85/min, SpO2 95–98 %, RR 12–20/min).
Everything draws from a seeded ``numpy.random.Generator``: same seed, same residents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

DAY_S = 86_400.0
# places (uint8 codes of the plan)
BED, BEDROOM, LIVING, KITCHEN, BATHROOM, HALL, OUT, FLOOR = range(8)
PLACE_NAMES = ("bed", "bedroom", "living", "kitchen", "bathroom", "hall", "out", "floor")
ROOM_OF = {BED: "bedroom", BEDROOM: "bedroom", LIVING: "living", KITCHEN: "kitchen",
           BATHROOM: "bathroom", HALL: "hall"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Profile:
    """A resident's habits and physiological baselines."""

    resident_id: str
    wake_h: float
    bed_h: float
    outing_p: float
    toilet_per_day: int
    night_toilet_p: float
    hr: float
    spo2: float
    rr: float
    temp: float
    sbp: float
    dbp: float
    glucose: float

    @classmethod
    def draw(cls, resident_id: str, rng: np.random.Generator) -> Profile:
        return cls(
            resident_id=resident_id,
            wake_h=float(np.clip(rng.normal(6.5, 0.4), 5.5, 7.5)),
            bed_h=float(np.clip(rng.normal(21.5, 0.4), 20.5, 22.5)),
            outing_p=float(rng.uniform(0.3, 0.8)),
            toilet_per_day=int(rng.integers(4, 8)),
            night_toilet_p=float(rng.uniform(0.2, 0.7)),
            hr=float(rng.uniform(60, 78)),
            spo2=float(rng.uniform(96, 98)),
            rr=float(rng.uniform(13, 17)),
            temp=float(rng.uniform(36.3, 36.8)),
            sbp=float(rng.uniform(118, 142)),
            dbp=float(rng.uniform(68, 84)),
            glucose=float(rng.uniform(5.0, 6.8)),
        )


def day_plan(p: Profile, rng: np.random.Generator, late_return_p: float = 0.0
             ) -> NDArray[np.uint8]:  # fmt: skip
    """One local day (00:00–24:00) as 1440 place codes; on a share ``late_return_p`` of
    evenings the resident is out from 18:30–20:00 until 22:10–23:30."""
    plan = np.full(1440, LIVING, dtype=np.uint8)
    wake = int(p.wake_h * 60 + rng.normal(0, 15))
    bed = int(p.bed_h * 60 + rng.normal(0, 15))
    wake, bed = max(300, min(wake, 540)), max(1170, min(bed, 1410))
    plan[:wake] = BED
    plan[bed:] = BED

    def put(start: int, minutes: int, place: int) -> None:
        start = max(0, min(start, 1439))
        plan[start : min(1440, start + max(1, minutes))] = place

    # the afternoon and evening alternate between living room and bedroom
    t = wake
    while t < bed:
        length = int(rng.integers(20, 70))
        put(t, min(length, bed - t), LIVING if rng.random() < 0.7 else BEDROOM)
        t += length
    put(wake, int(rng.integers(10, 18)), BATHROOM)
    put(wake + 20, int(rng.integers(20, 35)), KITCHEN)  # breakfast
    if rng.random() < p.outing_p:
        put(int(rng.integers(510, 600)), int(rng.integers(45, 120)), OUT)  # market, park
    put(int(rng.normal(705, 15)), int(rng.integers(30, 50)), KITCHEN)  # lunch
    put(int(rng.normal(1065, 20)), int(rng.integers(30, 50)), KITCHEN)  # dinner
    for _ in range(p.toilet_per_day - 2):
        t = int(rng.integers(wake + 60, bed - 30))
        if plan[t] != OUT:
            put(t, int(rng.integers(3, 9)), BATHROOM)
    put(bed - int(rng.integers(10, 16)), 10, BATHROOM)  # before going to bed
    if rng.random() < p.night_toilet_p:
        put(int(rng.integers(60, max(61, wake - 60))), int(rng.integers(3, 8)), BATHROOM)
    if late_return_p > 0 and rng.random() < late_return_p:  # no draw unless asked for
        out, back = int(rng.integers(1110, 1200)), int(rng.integers(1330, 1410))
        plan[out:back] = OUT
        visit = int(rng.integers(3, 8))
        put(back, visit, BATHROOM)
        plan[back + visit :] = BED
    _hall_around_outings(plan)
    return plan


def _hall_around_outings(plan: NDArray[np.uint8]) -> None:
    """A minute in the hall before leaving and after coming home (past the hall sensor)."""
    out = plan == OUT
    edges = np.flatnonzero(np.diff(out.astype(np.int8)))
    for e in edges:
        if out[e + 1]:  # leaving at e + 1
            plan[e] = HALL
        elif e + 1 < len(plan):  # back at e + 1
            plan[e + 1] = HALL


@dataclass(slots=True)
class Modifier:
    """An incident's effect on vitals between ``start`` and ``end`` (sim time)."""

    start: float
    end: float
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Vitals:
    hr: float
    spo2: float
    rr: float
    temp: float
    sbp: float
    dbp: float
    artefact: bool


def vitals(
    p: Profile, t: float, place: int, local_h: float, rng: np.random.Generator,
    modifiers: list[Modifier],
) -> Vitals:  # fmt: skip
    """The resident's vitals at ``t`` (a wearable's reading, with noise and artefacts)."""
    asleep = place == BED
    active = place in (KITCHEN, HALL, OUT, BATHROOM)
    circ = math.cos(2 * math.pi * (local_h - 17.0) / 24.0)  # +1 at 17:00, -1 at 05:00
    hr = p.hr + (-7 if asleep else 9 if active else 2) + 2 * circ + rng.normal(0, 2.5)
    spo2 = p.spo2 + (-0.5 if asleep else 0.0) + rng.normal(0, 0.6)
    rr = p.rr + (-1.5 if asleep else 1.0 if active else 0.0) + rng.normal(0, 0.8)
    temp = p.temp + 0.3 * circ + rng.normal(0, 0.08)
    dip = 0.87 if asleep else 1.0
    sbp = p.sbp * dip + 4 * circ + rng.normal(0, 4)
    dbp = p.dbp * dip + 2 * circ + rng.normal(0, 3)
    for m in modifiers:
        if m.start <= t < m.end:
            v = m.values
            hr = v.get("hr", hr) + rng.normal(0, 2) if "hr" in v else hr
            spo2 = v.get("spo2", spo2) + rng.normal(0, 0.7) if "spo2" in v else spo2
            rr = v.get("rr", rr) + rng.normal(0, 0.8) if "rr" in v else rr
            temp = v.get("temp", temp) + rng.normal(0, 0.1) if "temp" in v else temp
    artefact = active and rng.random() < 0.08  # wrist motion corrupts optical readings
    if artefact:
        hr += rng.uniform(20, 45)
        spo2 -= rng.uniform(3, 8)
    return Vitals(
        hr=round(float(np.clip(hr, 30, 220))),
        spo2=round(float(np.clip(spo2, 70, 100))),
        rr=round(float(np.clip(rr, 5, 45))),
        temp=round(float(np.clip(temp, 34, 42)), 1),
        sbp=round(float(np.clip(sbp, 80, 240))),
        dbp=round(float(np.clip(dbp, 40, 140))),
        artefact=artefact,
    )
