"""Who should take an order: the location-based dispatcher (定位派单).

A worker is **eligible** for a job when

1. they have every skill the service needs;
2. they are on duty for the whole visit (one shift covers arrival to end);
3. they can get there in time: travelling from where they will be — the home of their
   previous booking that day, else their last reported position, leaving when that booking
   ends (else now) — they arrive no later than the job's start plus its allowed lateness
   (``late_ok_s``: 0 for a scheduled service, more for an emergency visit, which starts
   "now" and is reached as soon as possible);
4. they still reach their next booking in time after the visit (visit plus travel).

Eligible workers are **ranked** by travel time, bucketed to ``travel_tie_s`` (two workers a
minute apart are equally near), then by load (bookings already held), then travel time and
id. A batch of jobs is planned in start order, each choice booked before the next, so
nobody is double-booked across the batch.

:func:`fit` is the reference rule for one job and one worker (an override is checked with
it); :func:`plan` applies the same rule to many jobs and workers with numpy: skills as bit
masks, shifts as padded arrays, one vectorised haversine per job over the candidates.

>>> w = Worker("w-1", 31.230, 121.470, frozenset({"food"}), ((0.0, 86_400.0),))
>>> j = Job("o-1", 3_600.0, 1_800.0, 31.232, 121.472, frozenset({"food"}))
>>> p = plan([j], [w], now=0.0)["o-1"]
>>> p.worker_id, round(p.travel_s)
('w-1', 91)
>>> fit(j, Worker("w-2", 31.23, 121.47, frozenset(), ((0.0, 86_400.0),)), now=0.0)
'skills'
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hub.dispatch.geo import haversine_m, travel_s

Reason = Literal["skills", "off_duty", "late", "busy", "no_position"]
"""Why a worker cannot take a job: missing skill, not on duty then, cannot arrive in time,
would overlap (with travel) another booking, no known position."""


@dataclass(frozen=True, slots=True)
class Params:
    speed_kmh: float = 15.0
    """Door-to-door speed of a care worker in town (an electric bicycle or a scooter)."""
    road_factor: float = 1.3
    """Road distance over straight-line distance (see :mod:`hub.dispatch.geo`)."""
    travel_tie_s: float = 120.0
    """Travel times in the same bucket of this width count as equal; load decides."""


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    start: float
    duration_s: float
    lat: float
    lon: float
    skills: frozenset[str] = frozenset()
    late_ok_s: float = 0.0
    """How late after ``start`` the worker may arrive (an emergency visit: as soon as
    possible within this)."""


@dataclass(frozen=True, slots=True)
class Booking:
    """Time a worker has promised: ``[start, end)`` at a home."""

    start: float
    end: float
    lat: float
    lon: float
    job_id: str = ""


@dataclass(slots=True)
class Worker:
    id: str
    lat: float | None
    lon: float | None
    skills: frozenset[str]
    shifts: tuple[tuple[float, float], ...]
    bookings: list[Booking] = field(default_factory=list)
    """Sorted by start, not overlapping."""


@dataclass(frozen=True, slots=True)
class Proposal:
    job_id: str
    worker_id: str
    travel_s: float
    distance_m: float
    arrive_at: float
    load: int


def _prev_next(bookings: Sequence[Booking], start: float) -> tuple[Booking | None, Booking | None]:
    i = bisect.bisect_left([b.start for b in bookings], start)
    return (bookings[i - 1] if i else None), (bookings[i] if i < len(bookings) else None)


def _covered(shifts: Sequence[tuple[float, float]], a: float, b: float) -> bool:
    return any(s <= a and b <= e for s, e in shifts)


def fit(  # noqa: PLR0911 - one return per rule of the module docstring, in its order
    job: Job, worker: Worker, *, now: float, params: Params = Params()
) -> Proposal | Reason:
    """The proposal for ``worker`` taking ``job``, or why they cannot (the reference rule)."""
    if not job.skills <= worker.skills:
        return "skills"
    if not _covered(worker.shifts, job.start, job.start + job.duration_s):
        return "off_duty"
    prev, nxt = _prev_next(worker.bookings, job.start)
    if prev is not None and prev.end > job.start:
        return "busy"
    if prev is None and (worker.lat is None or worker.lon is None):
        return "no_position"
    o_lat, o_lon = (prev.lat, prev.lon) if prev else (worker.lat, worker.lon)
    dist = float(haversine_m(o_lat, o_lon, job.lat, job.lon))
    trip = float(travel_s(dist, speed_kmh=params.speed_kmh, road_factor=params.road_factor))
    arrive = max(job.start, (prev.end if prev else now) + trip)
    if arrive > job.start + job.late_ok_s:
        return "busy" if prev is not None else "late"
    end = arrive + job.duration_s
    if not _covered(worker.shifts, arrive, end):
        return "off_duty"
    if nxt is not None:
        back = haversine_m(job.lat, job.lon, nxt.lat, nxt.lon)
        onward = float(travel_s(back, speed_kmh=params.speed_kmh, road_factor=params.road_factor))
        if end + onward > nxt.start:
            return "busy"
    return Proposal(job.id, worker.id, trip, dist, arrive, len(worker.bookings))


def book(worker: Worker, proposal: Proposal, job: Job) -> None:
    """Hold the worker's time for ``job`` as proposed (keeps bookings sorted)."""
    b = Booking(proposal.arrive_at, proposal.arrive_at + job.duration_s, job.lat, job.lon, job.id)
    worker.bookings.insert(bisect.bisect_left([x.start for x in worker.bookings], b.start), b)


class _Shifts:
    """Every worker's shifts as ``(workers, k)`` arrays padded with empty shifts."""

    def __init__(self, workers: Sequence[Worker]) -> None:
        k = max((len(w.shifts) for w in workers), default=0) or 1
        self.start = np.full((len(workers), k), np.inf)
        self.end = np.full((len(workers), k), -np.inf)
        for i, w in enumerate(workers):
            for j, (s, e) in enumerate(w.shifts):
                self.start[i, j], self.end[i, j] = s, e

    def covering(self, a: float, b: float) -> np.ndarray:
        return np.asarray(((self.start <= a) & (b <= self.end)).any(axis=1))

    def covering_each(self, rows: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For worker ``rows[i]``: does one shift cover ``[a[i], b[i]]``?"""
        s, e = self.start[rows], self.end[rows]
        return np.asarray(((s <= a[:, None]) & (b[:, None] <= e)).any(axis=1))


def _skill_bits(
    workers: Sequence[Worker], jobs: Sequence[Job]
) -> tuple[dict[str, int], np.ndarray]:
    names = sorted({s for w in workers for s in w.skills} | {s for j in jobs for s in j.skills})
    bit = {name: 1 << i for i, name in enumerate(names)}
    if len(names) <= 62:
        masks = np.array([sum(bit[s] for s in w.skills) for w in workers], dtype=np.int64)
    else:  # beyond 62 skills numpy ints overflow: keep Python ints
        masks = np.array([sum(bit[s] for s in w.skills) for w in workers], dtype=object)
    return bit, masks


def plan(
    jobs: Sequence[Job], workers: Sequence[Worker], *, now: float, params: Params = Params()
) -> dict[str, Proposal | None]:
    """Propose a worker for each job (None: nobody eligible), booking each choice on the
    worker (``workers`` are changed) so later jobs of the batch see it."""
    out: dict[str, Proposal | None] = {}
    if not workers:
        return {j.id: None for j in jobs}
    bit, masks = _skill_bits(workers, jobs)
    shifts = _Shifts(workers)
    pos_lat = np.array([np.nan if w.lat is None else w.lat for w in workers])
    pos_lon = np.array([np.nan if w.lon is None else w.lon for w in workers])
    starts: list[list[float]] = [[b.start for b in w.bookings] for w in workers]
    for job in sorted(jobs, key=lambda j: (j.start, j.id)):
        need = sum(bit[s] for s in job.skills)
        ok = ((masks & need) == need) & shifts.covering(job.start, job.start + job.duration_s)
        cand = np.flatnonzero(ok)
        if cand.size == 0:
            out[job.id] = None
            continue
        n = cand.size
        o_lat, o_lon = pos_lat[cand].copy(), pos_lon[cand].copy()
        depart = np.full(n, now)
        nxt_start = np.full(n, np.inf)
        nxt_lat, nxt_lon = np.zeros(n), np.zeros(n)
        load = np.zeros(n)
        for k, wi in enumerate(cand.tolist()):
            w = workers[wi]
            load[k] = len(w.bookings)
            i = bisect.bisect_left(starts[wi], job.start)
            if i:
                prev = w.bookings[i - 1]
                o_lat[k], o_lon[k] = prev.lat, prev.lon
                depart[k] = prev.end if prev.end <= job.start else np.inf
            if i < len(w.bookings):
                nb = w.bookings[i]
                nxt_start[k], nxt_lat[k], nxt_lon[k] = nb.start, nb.lat, nb.lon
        dist = haversine_m(o_lat, o_lon, job.lat, job.lon)
        trip = travel_s(dist, speed_kmh=params.speed_kmh, road_factor=params.road_factor)
        arrive = np.maximum(job.start, depart + trip)
        end = arrive + job.duration_s
        onward = travel_s(haversine_m(job.lat, job.lon, nxt_lat, nxt_lon),
                          speed_kmh=params.speed_kmh, road_factor=params.road_factor)  # fmt: skip
        good = (arrive <= job.start + job.late_ok_s) & (end + np.where(
            np.isinf(nxt_start), 0.0, onward) <= nxt_start)  # fmt: skip
        good &= ~np.isnan(dist)
        good &= shifts.covering_each(cand, arrive, end)
        if not good.any():
            out[job.id] = None
            continue
        idx = np.flatnonzero(good)
        bucket = np.floor(trip[idx] / params.travel_tie_s)
        ids = np.array([workers[int(cand[i])].id for i in idx])
        best = int(idx[np.lexsort((ids, trip[idx], load[idx], bucket))[0]])
        chosen = int(cand[best])
        proposal = Proposal(job.id, workers[chosen].id, float(trip[best]), float(dist[best]),
                            float(arrive[best]), int(load[best]))  # fmt: skip
        book(workers[chosen], proposal, job)
        bisect.insort(starts[chosen], proposal.arrive_at)
        out[job.id] = proposal
    return out
