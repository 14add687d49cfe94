"""Dispatch on hand-built maps: the nearest free skilled worker wins; an unskilled,
off-duty or busy worker is never chosen; a batch never double-books anyone; travel between
consecutive jobs is respected; the vectorised planner agrees with the reference rule."""

from __future__ import annotations

import itertools
import random

import pytest

from hub.dispatch.geo import haversine_m
from hub.dispatch.planner import Booking, Job, Params, Proposal, Worker, book, fit, plan

LAT, LON = 31.2300, 121.4700
KM = 0.009  # about one kilometre of latitude in degrees
DAY = (0.0, 86_400.0)
H = 3_600.0


def worker(wid: str, km_north: float, skills: set[str] | None = None,
           shifts: tuple[tuple[float, float], ...] = (DAY,),
           bookings: list[Booking] | None = None) -> Worker:  # fmt: skip
    return Worker(wid, LAT + km_north * KM, LON, frozenset(skills or {"food"}), shifts,
                  list(bookings or []))  # fmt: skip


def job(jid: str, start: float = 10 * H, km_north: float = 0.0, minutes: float = 30,
        skills: set[str] | None = None, late_ok_s: float = 0.0) -> Job:  # fmt: skip
    return Job(jid, start, minutes * 60, LAT + km_north * KM, LON,
               frozenset(skills if skills is not None else {"food"}), late_ok_s)  # fmt: skip


def chosen(jobs: list[Job], workers: list[Worker], now: float = 8 * H) -> dict[str, str | None]:
    return {k: (p.worker_id if p else None) for k, p in plan(jobs, workers, now=now).items()}


def test_nearest_free_skilled_worker_wins() -> None:
    workers = [worker("far", 3.0), worker("near", 0.5), worker("mid", 1.5)]
    assert chosen([job("o-1")], workers) == {"o-1": "near"}


def test_unskilled_off_duty_and_busy_workers_are_never_chosen() -> None:
    busy = Booking(9.9 * H, 10.4 * H, LAT, LON, "other")
    workers = [
        worker("unskilled", 0.1, skills={"bathing"}),
        worker("off", 0.2, shifts=((12 * H, 18 * H),)),
        worker("busy", 0.3, bookings=[busy]),
        worker("free", 4.0),
    ]
    assert chosen([job("o-1")], workers) == {"o-1": "free"}
    j = job("o-1")
    assert [fit(j, w, now=8 * H) for w in workers[:3]] == ["skills", "off_duty", "busy"]
    assert chosen([job("o-2", skills={"nursing"})], workers) == {"o-2": None}


def test_visit_must_end_within_the_shift() -> None:
    w = worker("w", 0.1, shifts=((8 * H, 10.25 * H),))
    assert fit(job("o-1", minutes=30), w, now=8 * H) == "off_duty"
    assert isinstance(fit(job("o-1", minutes=15), w, now=8 * H), Proposal)


def test_a_batch_never_double_books() -> None:
    # three overlapping jobs at one home, two workers: the third has nobody
    workers = [worker("a", 0.2), worker("b", 0.4)]
    jobs = [job(f"o-{i}", start=10 * H + i * 60) for i in range(3)]
    got = chosen(jobs, workers)
    assert sorted(v for v in got.values() if v) == ["a", "b"]
    assert list(got.values()).count(None) == 1
    for w in workers:
        spans = sorted((b.start, b.end) for b in w.bookings)
        assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))


def test_travel_between_consecutive_jobs_is_respected() -> None:
    # a 10:00-10:30 job at home; the next at 10:35 is 5 km away (about 27 min of travel):
    # the worker who did the first cannot take it, someone else must
    a = worker("a", 0.0)
    b = worker("b", 8.0)
    first = job("o-1", start=10 * H)
    second = job("o-2", start=10 * H + 35 * 60, km_north=5.0)
    assert chosen([first, second], [a, b]) == {"o-1": "a", "o-2": "b"}
    # with an hour between them, the same worker can do both, leaving from the first home
    a2, b2 = worker("a", 0.0), worker("b", 8.0)
    later = job("o-2", start=11 * H + 30 * 60, km_north=5.0)
    props = plan([first, later], [a2, b2], now=8 * H)
    assert props["o-2"] is not None
    assert props["o-2"].worker_id == "b"  # still nearer from its own position
    # and the trip is measured from the first job's home, not the worker's morning position
    alone = worker("a", -20.0)
    props = plan([first, later], [alone], now=0.0)
    p = props["o-2"]
    assert p is not None
    assert p.distance_m == pytest.approx(float(haversine_m(LAT, LON, LAT + 5 * KM, LON)))


def test_a_job_that_would_make_the_next_booking_late_is_refused() -> None:
    nxt = Booking(10.6 * H, 11 * H, LAT + 6 * KM, LON, "later")
    w = worker("w", 0.0, bookings=[nxt])
    assert fit(job("o-1", start=10 * H), w, now=8 * H) == "busy"
    assert isinstance(fit(job("o-1", start=9 * H), w, now=8 * H), Proposal)


def test_emergency_visit_starts_now_and_allows_travel() -> None:
    near, far = worker("near", 1.0), worker("far", 6.0)
    urgent = job("sos", start=8 * H, late_ok_s=20 * 60, skills=set())
    props = plan([urgent], [far, near], now=8 * H)
    p = props["sos"]
    assert p is not None
    assert p.worker_id == "near"
    assert p.arrive_at == pytest.approx(8 * H + p.travel_s)
    # without any allowed lateness, nobody can be there at once
    assert fit(job("sos", start=8 * H, skills=set()), near, now=8 * H) == "late"


def test_load_breaks_ties_between_equally_near_workers() -> None:
    held = [Booking(14 * H, 15 * H, LAT, LON, "x"), Booking(15 * H, 16 * H, LAT, LON, "y")]
    workers = [worker("busy-day", 0.50, bookings=held), worker("light-day", 0.52)]
    assert chosen([job("o-1")], workers) == {"o-1": "light-day"}


def test_no_position_and_no_workers() -> None:
    w = Worker("w", None, None, frozenset({"food"}), (DAY,))
    assert fit(job("o-1"), w, now=0.0) == "no_position"
    assert chosen([job("o-1")], [w]) == {"o-1": None}
    assert chosen([job("o-1")], []) == {"o-1": None}


def test_vectorised_plan_agrees_with_the_reference_rule() -> None:
    rng = random.Random(7)
    skills = ["food", "bathing", "checkup"]
    for _ in range(20):
        workers = [
            Worker(f"w-{i}", LAT + rng.uniform(-0.05, 0.05), LON + rng.uniform(-0.05, 0.05),
                   frozenset(rng.sample(skills, rng.randint(1, 3))),
                   ((rng.uniform(6, 9) * H, rng.uniform(15, 20) * H),))
            for i in range(12)
        ]  # fmt: skip
        jobs = [
            Job(f"o-{i}", rng.uniform(8, 17) * H, rng.choice([30, 45, 60]) * 60,
                LAT + rng.uniform(-0.05, 0.05), LON + rng.uniform(-0.05, 0.05),
                frozenset(rng.sample(skills, 1)), rng.choice([0.0, 0.0, 1200.0]))
            for i in range(40)
        ]  # fmt: skip
        twins = [Worker(w.id, w.lat, w.lon, w.skills, w.shifts) for w in workers]
        got = plan(jobs, workers, now=7 * H)
        params = Params()
        for j in sorted(jobs, key=lambda j: (j.start, j.id)):
            fits = [p for w in twins if isinstance(p := fit(j, w, now=7 * H), Proposal)]
            p = got[j.id]
            if not fits:
                assert p is None
                continue
            assert p is not None
            best = min(fits, key=lambda f: (f.travel_s // params.travel_tie_s, f.load,
                                            f.travel_s, f.worker_id))  # fmt: skip
            assert p.worker_id == best.worker_id
            book(next(w for w in twins if w.id == p.worker_id), best, j)
