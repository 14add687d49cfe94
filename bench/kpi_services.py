"""The community services of ``bench/kpi.py``'s synthetic year: every station's catalogue,
an emergency visit after each fall or SOS alert, meal deliveries, visit plans' tasks and the
families' ratings, written with COPY beside the alerts (so the service KPIs are timed over
as much history as the alert ones).

Per resident and year: about 6 meal deliveries (half a month), a visit a week for a third
of them and a visit a month for the rest, and a rating of about a third of what was done.
Times drawn from fixed distributions with the caller's seeded generator: arrival after an
alarm log-normal around 20 min, services running 0.7–1.6 times their duration, visits
recorded from 2 days early to 4 days late (a window of 2 days), a few orders cancelled
and visits never made.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

EMERGENCY_KINDS = frozenset({"fall", "sos"})
"""Alerts after which the station sends someone."""
SCORES_P = (0.03, 0.05, 0.15, 0.37, 0.40)
DAY = 86_400.0
ORDERS = (
    "COPY service_orders (id, station_id, resident_id, service_id, kind, scheduled_at,"
    " duration_min, status, alert_id, price_cents, subsidy_cents, created_by, created_at,"
    " updated_at) FROM STDIN"
)


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class _Writer:
    """Orders and their audit steps, written as they are drawn."""

    def __init__(self, copy: Any) -> None:
        self.orders = copy
        self.n = 0
        self.steps: list[tuple[object, ...]] = []
        self.done: list[tuple[str, str, str, float]] = []  # (order, resident, station, at)

    def order(self, oid: str, rid: str, sid: str, kind: str, at: float, minutes: int,
              alert: str | None, steps: Sequence[tuple[str, float]]) -> None:  # fmt: skip
        status = steps[-1][0]
        service = f"sv-{'e' if kind == 'emergency_visit' else 'm'}-{sid}"
        self.orders.write_row((oid, sid, rid, service, kind, _dt(at), minutes, status, alert,
                               1500, 1000, "user:staff", _dt(at - 60.0),
                               _dt(steps[-1][1])))  # fmt: skip
        self.n += 1
        previous = None
        for status, t in (("open", at - 60.0), *steps):
            self.steps.append((oid, _dt(t), "user:staff", previous, status))
            previous = status
        if status == "done":
            self.done.append((oid, rid, sid, steps[-1][1]))


def _work(rng: np.random.Generator, at: float, minutes: int, arrive_s: float
          ) -> list[tuple[str, float]]:  # fmt: skip
    """Assigned, accepted, arrived after ``arrive_s`` and done (or cancelled, 3 %)."""
    if rng.random() < 0.03:
        return [("cancelled", at - 30.0)]
    arrived = at + arrive_s
    done = arrived + minutes * 60.0 * float(rng.uniform(0.7, 1.6))
    return [("assigned", at - 50.0), ("accepted", at - 40.0), ("arrived", arrived),
            ("done", done)]  # fmt: skip


def _ratings(rng: np.random.Generator, kind: str, done: Sequence[tuple[str, str, str, float]]
             ) -> list[tuple[object, ...]]:  # fmt: skip
    rows: list[tuple[object, ...]] = []
    for subject, rid, sid, at in done:
        if rng.random() < 0.33:
            score = int(rng.choice(5, p=SCORES_P)) + 1
            given = at + float(rng.exponential(DAY))
            rows.append((kind, subject, f"family-{rid}", rid, sid, score, "", _dt(given),
                         _dt(given)))  # fmt: skip
    return rows


def write(cur: Any, rng: np.random.Generator, stations: Sequence[str],
          people: Sequence[tuple[str, str]], emergencies: Sequence[tuple[str, str, str, float]],
          year_start: float, year_s: float) -> dict[str, int]:  # fmt: skip
    """Write the services of ``stations`` and the history of ``people`` (resident, station)
    and ``emergencies`` (alert, resident, station, opened); how many rows of each kind."""
    with cur.copy("COPY services (id, station_id, kind, name, duration_min, price_cents,"
                  " subsidy_cents, created_at) FROM STDIN") as cp:  # fmt: skip
        for sid in stations:
            cp.write_row((f"sv-e-{sid}", sid, "emergency_visit", "紧急上门", 45, 0, 0,
                          _dt(year_start - DAY)))  # fmt: skip
            cp.write_row((f"sv-m-{sid}", sid, "meal_delivery", "送餐", 30, 1500, 1000,
                          _dt(year_start - DAY)))  # fmt: skip
    with cur.copy(ORDERS) as cp:
        w = _Writer(cp)
        for alert, rid, sid, opened in emergencies:
            at = opened + float(rng.lognormal(np.log(60.0), 0.5))  # the click
            arrive = float(rng.lognormal(np.log(1_200.0), 0.5))
            w.order(f"o-{alert}", rid, sid, "emergency_visit", at, 45, alert,
                    _work(rng, at, 45, arrive))  # fmt: skip
        for i, (rid, sid) in enumerate(people):
            for j, t in enumerate(np.sort(rng.uniform(0, year_s, rng.poisson(6.0)))):
                at = year_start + float(t // 3600 * 3600)  # on the hour
                w.order(f"m-{i}-{j}", rid, sid, "meal_delivery", at, 30, None,
                        _work(rng, at, 30, float(rng.uniform(-300.0, 600.0))))  # fmt: skip
    with cur.copy("COPY service_order_events (order_id, at, actor, from_status, to_status)"
                  " FROM STDIN") as cp:  # fmt: skip
        for row in w.steps:
            cp.write_row(row)
    tasks, visits = _visit_tasks(cur, rng, people, year_start, year_s)
    ratings = _ratings(rng, "order", w.done) + _ratings(rng, "visit", visits)
    with cur.copy("COPY ratings (subject_kind, subject_id, rater, resident_id, station_id,"
                  " score, comment, created_at, updated_at) FROM STDIN") as cp:  # fmt: skip
        for row in ratings:
            cp.write_row(row)
    return {"orders": w.n, "order_events": len(w.steps), "visit_tasks": tasks,
            "ratings": len(ratings)}  # fmt: skip


def _visit_tasks(cur: Any, rng: np.random.Generator, people: Sequence[tuple[str, str]],
                 year_start: float, year_s: float
                 ) -> tuple[int, list[tuple[str, str, str, float]]]:  # fmt: skip
    """Weekly tasks for every third resident, monthly for the others, a window of 2 days;
    how many, and those done (id, resident, station, when recorded)."""
    done: list[tuple[str, str, str, float]] = []
    n = 0
    columns = ("id, resident_id, station_id, kind, origin, due_on, window_days, overdue_at,"
               " created_at, state, done_at")  # fmt: skip
    with cur.copy(f"COPY visit_tasks ({columns}) FROM STDIN") as cp:
        for i, (rid, sid) in enumerate(people):
            step = 7 * DAY if i % 3 == 0 else 30 * DAY
            for due in np.arange(year_start + float(rng.uniform(0, step)), year_start + year_s,
                                 step):  # fmt: skip
                overdue = float(due) + 3 * DAY  # the end of the due day and two more
                tid = f"visit:{rid}:{int(due)}"
                recorded = None if rng.random() < 0.05 else float(due) + float(
                    rng.uniform(-2 * DAY, 4 * DAY))  # fmt: skip
                cp.write_row((tid, rid, sid, "visit", "plan", _dt(float(due)).date(), 2,
                              _dt(overdue), _dt(float(due) - 7 * DAY),
                              "open" if recorded is None else "done",
                              None if recorded is None else _dt(recorded)))  # fmt: skip
                n += 1
                if recorded is not None:
                    done.append((tid, rid, sid, recorded))
    return n, done
