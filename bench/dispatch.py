"""Dispatch decision time: proposing a care worker for 1,000 open orders among 200 workers.

A synthetic district: 200 care workers scattered over a disc of 5 km around a station,
each with one to three of four skills and a day shift (08:00–20:00, a quarter of them
12:00–20:00); 1,000 orders spread over 08:00–18:00, 30 to 90 minutes each, each needing
one skill, a tenth of them emergency visits (allowed 30 minutes of travel). The planner
(:func:`hub.dispatch.planner.plan`) proposes a worker for every order in one batch, booking
each choice so nobody is double-booked; the figure is the median time of ``--runs`` runs
(5), each on fresh workers.

Its peer, ``dispatch_reference_1000x200_s``: the same batch through the reference rule
(:func:`hub.dispatch.planner.fit` for every worker and every order, in plain Python),
which must make the same choices. ``dispatch_vs_reference`` is their ratio.

Run: ``.venv/bin/python -m bench.dispatch`` (about half a minute).
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import time

from bench.common import Figure, median, report
from hub.dispatch.planner import Job, Params, Proposal, Worker, book, fit, plan

LAT, LON = 31.2304, 121.4737
SKILLS = ("food", "bathing", "checkup", "nursing")
H = 3_600.0


def district(orders: int, workers: int, seed: int) -> tuple[list[Job], list[Worker]]:
    rng = random.Random(seed)

    def spot() -> tuple[float, float]:
        r, a = 5_000 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        return LAT + r * math.cos(a) / 111_320, LON + r * math.sin(a) / (
            111_320 * math.cos(math.radians(LAT))
        )

    staff = []
    for i in range(workers):
        lat, lon = spot()
        start = 12 * H if i % 4 == 0 else 8 * H
        skills = frozenset(rng.sample(SKILLS, rng.randint(1, 3)))
        staff.append(Worker(f"w-{i}", lat, lon, skills, ((start, 20 * H),)))
    jobs = []
    for i in range(orders):
        lat, lon = spot()
        emergency = i % 10 == 0
        start, minutes = rng.uniform(8 * H, 18 * H), rng.choice((30, 45, 60, 90))
        late = 1_800.0 if emergency else 0.0
        jobs.append(Job(f"o-{i}", start, minutes * 60, lat, lon, frozenset({rng.choice(SKILLS)}),
                        late))  # fmt: skip
    return jobs, staff


def fresh(staff: list[Worker]) -> list[Worker]:
    return [Worker(w.id, w.lat, w.lon, w.skills, w.shifts) for w in staff]


def reference(jobs: list[Job], staff: list[Worker], now: float) -> dict[str, Proposal | None]:
    params, out = Params(), {}
    for j in sorted(jobs, key=lambda j: (j.start, j.id)):
        fits = [p for w in staff if isinstance(p := fit(j, w, now=now), Proposal)]
        best = min(fits, default=None, key=lambda f: (f.travel_s // params.travel_tie_s, f.load,
                                                      f.travel_s, f.worker_id))  # fmt: skip
        if best is not None:
            book(next(w for w in staff if w.id == best.worker_id), best, j)
        out[j.id] = best
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=1_000)
    ap.add_argument("--workers", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    jobs, staff = district(args.orders, args.workers, seed=17)
    now = 7 * H
    fast, slow = [], []
    for _ in range(args.runs):
        a, b = fresh(staff), fresh(staff)
        t0 = time.perf_counter()
        got = plan(jobs, a, now=now)
        fast.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = reference(jobs, b, now)
        slow.append(time.perf_counter() - t0)
        same = {k: p and p.worker_id for k, p in got.items()} == {
            k: p and p.worker_id for k, p in ref.items()
        }
        if not same:
            raise SystemExit("the planner and the reference rule chose differently")
        for w in a:  # nobody double-booked
            spans = sorted((x.start, x.end) for x in w.bookings)
            if any(e > s for (_, e), (s, _) in itertools.pairwise(spans)):
                raise SystemExit(f"{w.id} is double-booked")
    placed = sum(p is not None for p in got.values())
    figures = [
        Figure("dispatch_1000x200_s", median(fast), len(fast)),
        Figure("dispatch_reference_1000x200_s", median(slow), len(slow)),
        Figure("dispatch_vs_reference", median(slow) / median(fast), len(fast)),
    ]
    notes = [("orders placed", f"{placed:,} of {len(jobs):,}"),
             ("workers", f"{len(staff):,}"), ("runs", str(args.runs))]  # fmt: skip
    return report("dispatch", figures, notes)


if __name__ == "__main__":
    raise SystemExit(main())
