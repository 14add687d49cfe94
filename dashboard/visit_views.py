"""Visit tasks, records and ratings as the API shows them, with the caller's scope applied
(synchronous: run in a worker thread). Families see their elders' visits and their own
ratings; staff and admins see the visits of their stations and every rating of them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dashboard import queries
from dashboard.scope import Scope
from hub.errors import NotFound
from hub.store.base import Store, VisitTask


def task(store: Store, scope: Scope, task_id: str) -> VisitTask:
    """A visit task the caller may see (NotFound otherwise, as for a missing one)."""
    t = store.get_visit_task(task_id)
    if not scope.sees_resident(t.resident_id, t.station_id):
        raise NotFound(f"visit task {task_id!r}")
    return t


def tasks(
    store: Store, scope: Scope, *, station_id: str | None, resident_id: str | None,
    state: str | None, kind: str | None, due_until: str | None, now: float, limit: int,
) -> list[VisitTask]:  # fmt: skip
    """The visible tasks; ``state`` ``"overdue"``: open ones past their window at ``now``."""
    if resident_id is not None:
        queries.resident(store, scope, resident_id)  # NotFound when not visible
    if station_id is not None:
        stations: list[str] | None = [station_id] if scope.sees_station(station_id) else []
    else:
        stations = None if scope.station_ids is None else sorted(scope.station_ids)
    rows = store.list_visit_tasks(
        station_ids=stations, resident_id=resident_id,
        state="open" if state == "overdue" else state, kind=kind, due_until=due_until,
        overdue_at=now if state == "overdue" else None, limit=limit,
    )  # fmt: skip
    return [t for t in rows if scope.sees_resident(t.resident_id, t.station_id)]


def rater_filter(scope: Scope) -> str | None:
    """Families see their own ratings only."""
    return scope.user_id if scope.role == "family" else None


def with_details(store: Store, scope: Scope, rows: list[VisitTask]) -> list[dict[str, Any]]:
    """Tasks with their record (when done) and the ratings the caller may see."""
    done = [t.id for t in rows if t.state == "done"]
    records = store.visit_records(done) if done else {}
    ratings: dict[str, list[dict[str, Any]]] = {}
    if done:
        for r in store.list_ratings(subject_kind="visit", subject_ids=done,
                                    rater=rater_filter(scope), limit=10 * len(done)):  # fmt: skip
            ratings.setdefault(r.subject_id, []).append(asdict(r))
    names: dict[str, str] = {}
    for rid in dict.fromkeys(t.resident_id for t in rows):
        try:
            names[rid] = store.get_resident(rid).name
        except NotFound:
            names[rid] = rid
    out = []
    for t in rows:
        rec = records.get(t.id)
        out.append(asdict(t) | {
            "resident_name": names[t.resident_id], "record": asdict(rec) if rec else None,
            "ratings": ratings.get(t.id, []),
        })  # fmt: skip
    return out
