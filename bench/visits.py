"""Visit housekeeping at district size: 10,000 residents with visit plans over 50 stations.

What :class:`hub.runtime.visits.VisitKeeper` costs the hub (docs/visits.md, "Sizes"), on
PostgreSQL with SQLite beside it:

- ``visits_generate_10k_s``: the first generation of every plan's tasks (a third weekly,
  the rest fortnightly, plans begun a month before: the missed periods are generated too),
  the tasks deleted between runs;
- ``visits_hourly_10k_s``: the hourly regeneration when nothing is new;
- ``visits_round_idle_ms``: a round (every minute) once every overdue task has raised its
  finding.

``--runs`` of each (at least 5); medians. A reference, no goal: the keeper runs beside
the hub once a minute, so a round must stay far below that.

Run: ``python -m bench.visits`` (about a minute).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench.common import Figure, median, pg_database, report
from hub.runtime.visits import VisitKeeper
from hub.store import open_store
from hub.store.base import CareProfile, City, District, Resident, Station, Store, VisitPlan

T0 = 1_772_500_000.0  # 2026-03-03, a month after the plans begin
STATIONS = 50


def fill(store: Store, n: int) -> None:
    store.add_city(City("sh", "上海"))
    store.add_district(District("pd", "sh", "浦东新区"))
    for s in range(STATIONS):
        store.add_station(Station(f"st-{s:02d}", "pd", f"养老服务站 {s}"))
    for i in range(n):
        rid = f"r-{i:05d}"
        store.add_resident(Resident(rid, f"st-{i % STATIONS:02d}", f"居民 {i}"))
        store.set_care_profile(
            CareProfile(rid, living_alone=i % 3 == 0, risk_level="medium", updated_at=T0)
        )
        store.set_visit_plan(VisitPlan(rid, "by_risk", 2, "2026-02-01", weekday=i % 7,
                                       updated_at=T0))  # fmt: skip


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(store: Store, delete_tasks: Callable[[], None], n: int, runs: int) -> dict[str, float]:
    fill(store, n)
    keeper = VisitKeeper(store, clock=lambda: T0)
    first, hourly, idle, made = [], [], [], {"tasks": 0}
    for _ in range(runs):
        delete_tasks()
        first.append(timed(lambda: made.update(tasks=keeper.generate(T0))))
        tasks = made["tasks"]
        hourly.append(timed(lambda: keeper.generate(T0)))
        while keeper.overdue(T0):  # the missed periods' overdue findings, 1,000 a round
            pass
        idle.append(timed(lambda: keeper.overdue(T0)))
    return {"first": median(first), "hourly": median(hourly), "idle": median(idle),
            "tasks": tasks}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with pg_database() as url:
        store = open_store(url)

        def pg_delete() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DELETE FROM visit_tasks")

        pg = measure(store, pg_delete, args.residents, args.runs)
        store.close()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "visits.db"
        store = open_store(f"sqlite:///{path}")

        def lite_delete() -> None:
            with sqlite3.connect(path) as conn:
                conn.execute("DELETE FROM visit_tasks")

        lite = measure(store, lite_delete, args.residents, args.runs)
        store.close()
    scale = 10_000 / args.residents
    raise SystemExit(report(f"visit housekeeping, {args.residents:,} residents", [
        Figure("visits_generate_10k_s", pg["first"] * scale, args.runs),
        Figure("visits_hourly_10k_s", pg["hourly"] * scale, args.runs),
        Figure("visits_round_idle_ms", pg["idle"] * 1000, args.runs),
    ], [
        ("tasks of the first generation", f"{pg['tasks']:,}"),
        ("SQLite: first generation, hourly, idle round",
         f"{lite['first']:.2f} s, {lite['hourly']:.2f} s, {lite['idle'] * 1000:.0f} ms"),
    ]))  # fmt: skip


if __name__ == "__main__":
    main()
