"""Visits, follow-ups and ratings: SQL both back-ends share (:mod:`hub.store.shared`
explains how), mixed into :class:`~hub.store.sqlite.visits.SqliteVisits` and
:class:`~hub.store.postgres.visits.PostgresVisits`.

Dates are ISO text in SQLite and ``date`` in PostgreSQL (read back with ``str``); booleans
are integers in SQLite (read back with ``bool``); lists are JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.errors import Conflict, NotFound
from hub.store.protocols.visits import CareProfile, RatingRow, VisitPlan, VisitRecord, VisitTask
from hub.store.shared_writes import SharedWrites

PROFILE_SELECT = (
    "SELECT resident_id, living_alone, left_behind, risk_level, updated_at FROM care_profiles"
)
PLAN_SELECT = (
    "SELECT resident_id, cadence, window_days, starts_on, weekday, active, updated_at,"
    " updated_by FROM visit_plans"
)
TASK_COLS = (
    "id, resident_id, station_id, kind, origin, due_on, window_days, overdue_at, created_at,"
    " source_id, state, note, alerted_at, done_at"
)
RECORD_COLS = (
    "task_id, resident_id, station_id, visitor, visited_at, recorded_at, mood, mobility,"
    " living, needs, notes, photo_ref"
)
RATING_COLS = (
    "subject_kind, subject_id, rater, resident_id, station_id, score, comment, created_at,"
    " updated_at"
)


class SharedVisits(SharedWrites):
    """The :class:`~hub.store.protocols.visits.VisitStore` area on either back-end."""

    # --- rows --------------------------------------------------------------------------

    def _profile(self, r: Sequence[Any]) -> CareProfile:
        return CareProfile(r[0], bool(r[1]), bool(r[2]), r[3], self._rows.ts(r[4]))

    def _plan(self, r: Sequence[Any]) -> VisitPlan:
        return VisitPlan(r[0], r[1], int(r[2]), str(r[3]), r[4], bool(r[5]),
                         self._rows.ts(r[6]), r[7])  # fmt: skip

    def _task(self, r: Sequence[Any]) -> VisitTask:
        ts, opt = self._rows.ts, self._rows.opt_ts
        return VisitTask(r[0], r[1], r[2], r[3], r[4], str(r[5]), int(r[6]), ts(r[7]), ts(r[8]),
                         r[9], r[10], r[11], opt(r[12]), opt(r[13]))  # fmt: skip

    def _record(self, r: Sequence[Any]) -> VisitRecord:
        ts = self._rows.ts
        return VisitRecord(r[0], r[1], r[2], r[3], ts(r[4]), ts(r[5]), r[6], r[7], r[8],
                           tuple(self._rows.json(r[9]) or ()), r[10], r[11])  # fmt: skip

    def _rating(self, r: Sequence[Any]) -> RatingRow:
        ts = self._rows.ts
        return RatingRow(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6], ts(r[7]), ts(r[8]))

    # --- profiles and plans --------------------------------------------------------------

    def set_care_profile(self, profile: CareProfile) -> None:
        p, m = profile, self._mark
        self._write(
            f"set care profile of {p.resident_id!r}",
            "INSERT INTO care_profiles (resident_id, living_alone, left_behind, risk_level,"
            f" updated_at) VALUES ({m}, {m}, {m}, {m}, {m}) ON CONFLICT (resident_id) DO UPDATE"
            " SET living_alone = excluded.living_alone, left_behind = excluded.left_behind,"
            " risk_level = excluded.risk_level, updated_at = excluded.updated_at",
            (p.resident_id, p.living_alone, p.left_behind, p.risk_level, self._at(p.updated_at)),
        )

    def get_care_profile(self, resident_id: str) -> CareProfile | None:
        rows = self._query(f"{PROFILE_SELECT} WHERE resident_id = {self._mark}", (resident_id,))
        return self._profile(rows[0]) if rows else None

    def list_care_profiles(self) -> list[CareProfile]:
        return [self._profile(r) for r in self._query(f"{PROFILE_SELECT} ORDER BY resident_id")]

    def set_visit_plan(self, plan: VisitPlan) -> None:
        p, m = plan, self._mark
        self._write(
            f"set visit plan of {p.resident_id!r}",
            "INSERT INTO visit_plans (resident_id, cadence, window_days, starts_on, weekday,"
            f" active, updated_at, updated_by) VALUES ({m}, {m}, {m}, {m}, {m}, {m}, {m}, {m})"
            " ON CONFLICT (resident_id) DO UPDATE SET cadence = excluded.cadence,"
            " window_days = excluded.window_days, starts_on = excluded.starts_on,"
            " weekday = excluded.weekday, active = excluded.active,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (p.resident_id, p.cadence, p.window_days, p.starts_on, p.weekday, p.active,
             self._at(p.updated_at), p.updated_by),
        )  # fmt: skip

    def get_visit_plan(self, resident_id: str) -> VisitPlan | None:
        rows = self._query(f"{PLAN_SELECT} WHERE resident_id = {self._mark}", (resident_id,))
        return self._plan(rows[0]) if rows else None

    def list_visit_plans(self, *, active: bool | None = True) -> list[VisitPlan]:
        if active is None:
            rows = self._query(f"{PLAN_SELECT} ORDER BY resident_id")
        else:
            rows = self._query(f"{PLAN_SELECT} WHERE active = {self._mark} ORDER BY resident_id",
                               (active,))  # fmt: skip
        return [self._plan(r) for r in rows]

    # --- tasks -----------------------------------------------------------------------------

    def add_visit_tasks(self, tasks: Sequence[VisitTask]) -> int:
        if not tasks:
            return 0
        marks = self._marks(14)
        rows = [
            (t.id, t.resident_id, t.station_id, t.kind, t.origin, t.due_on, t.window_days,
             self._at(t.overdue_at), self._at(t.created_at), t.source_id, t.state, t.note,
             self._opt_at(t.alerted_at), self._opt_at(t.done_at))
            for t in tasks
        ]  # fmt: skip
        with self._transaction("add visit tasks") as conn:
            # executemany: one round trip a batch on PostgreSQL (pipeline mode), several
            # times faster than a statement each for the first generation of a district
            cur = conn.cursor()
            try:
                cur.executemany(
                    f"INSERT INTO visit_tasks ({TASK_COLS}) VALUES ({marks})"
                    " ON CONFLICT (id) DO NOTHING",
                    rows,
                )
                added: int = max(cur.rowcount, 0)
                return added
            finally:
                cur.close()

    def get_visit_task(self, task_id: str) -> VisitTask:
        row = self._by_id(f"SELECT {TASK_COLS} FROM visit_tasks", "id", task_id,
                          f"visit task {task_id!r}")  # fmt: skip
        return self._task(row)

    def list_visit_tasks(
        self, *, station_ids: Sequence[str] | None = None, resident_id: str | None = None,
        state: str | None = None, kind: str | None = None, due_until: str | None = None,
        overdue_at: float | None = None, limit: int = 200,
    ) -> list[VisitTask]:  # fmt: skip
        m = self._mark
        where: list[str] = []
        params: list[Any] = []
        if station_ids is not None:
            clause, values = self._in("station_id", station_ids)
            where.append(clause)
            params += values
        for clause, value in (("resident_id", resident_id), ("state", state), ("kind", kind)):
            if value is not None:
                where.append(f"{clause} = {m}")
                params.append(value)
        if due_until is not None:
            where.append(f"due_on <= {m}")
            params.append(due_until)
        if overdue_at is not None:
            where.append(f"state = 'open' AND overdue_at <= {m}")
            params.append(self._at(overdue_at))
        order = "due_on DESC, id DESC" if state == "done" else "due_on, id"
        sql = f"SELECT {TASK_COLS} FROM visit_tasks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._query(f"{sql} ORDER BY {order} LIMIT {m}", (*params, limit))
        return [self._task(r) for r in rows]

    def last_plan_due(self) -> dict[str, str]:
        rows = self._query(
            "SELECT resident_id, max(due_on) FROM visit_tasks WHERE origin = 'plan'"
            " GROUP BY resident_id"
        )
        return {r[0]: str(r[1]) for r in rows}

    def unalerted_overdue(self, now: float, limit: int = 1000) -> list[VisitTask]:
        m = self._mark
        rows = self._query(
            f"SELECT {TASK_COLS} FROM visit_tasks WHERE state = 'open' AND overdue_at <= {m}"
            f" AND alerted_at IS NULL ORDER BY overdue_at, id LIMIT {m}",
            (self._at(now), limit),
        )
        return [self._task(r) for r in rows]

    def mark_visit_alerted(self, task_ids: Sequence[str], at: float) -> None:
        if not task_ids:
            return
        clause, values = self._in("id", task_ids)
        self._write(
            "mark visit tasks alerted",
            f"UPDATE visit_tasks SET alerted_at = {self._mark} WHERE alerted_at IS NULL"
            f" AND {clause}",
            (self._at(at), *values),
        )

    def record_visit(self, record: VisitRecord) -> VisitTask:
        r, m = record, self._mark
        with self._transaction(f"record visit {r.task_id!r}") as conn:
            found = conn.execute(
                f"SELECT {TASK_COLS} FROM visit_tasks WHERE id = {m}", (r.task_id,)
            ).fetchall()
            if not found:
                raise NotFound(f"visit task {r.task_id!r}")
            task = self._task(found[0])
            if task.state == "done":
                raise Conflict(f"visit task {r.task_id!r} is done already")
            conn.execute(
                f"UPDATE visit_tasks SET state = 'done', done_at = {m} WHERE id = {m}",
                (self._at(r.recorded_at), r.task_id),
            )
            conn.execute(
                f"INSERT INTO visit_records ({RECORD_COLS}) VALUES ({self._marks(12)})",
                (r.task_id, task.resident_id, task.station_id, r.visitor, self._at(r.visited_at),
                 self._at(r.recorded_at), r.mood, r.mobility, r.living,
                 self._json(list(r.needs), ensure_ascii=False), r.notes, r.photo_ref),
            )  # fmt: skip
        return task

    def visit_records(self, task_ids: Sequence[str]) -> dict[str, VisitRecord]:
        clause, values = self._in("task_id", task_ids)
        rows = self._query(f"SELECT {RECORD_COLS} FROM visit_records WHERE {clause}", values)
        return {r[0]: self._record(r) for r in rows}

    # --- ratings ---------------------------------------------------------------------------

    def put_rating(self, rating: RatingRow) -> RatingRow:
        r = rating
        self._write(
            f"rate {r.subject_kind} {r.subject_id!r}",
            f"INSERT INTO ratings ({RATING_COLS}) VALUES ({self._marks(9)})"
            " ON CONFLICT (subject_kind, subject_id, rater) DO UPDATE SET score = excluded.score,"
            " comment = excluded.comment, updated_at = excluded.updated_at",
            (r.subject_kind, r.subject_id, r.rater, r.resident_id, r.station_id, r.score,
             r.comment, self._at(r.created_at), self._at(r.updated_at)),
        )  # fmt: skip
        stored = self.get_rating(r.subject_kind, r.subject_id, r.rater)
        assert stored is not None
        return stored

    def get_rating(self, subject_kind: str, subject_id: str, rater: str) -> RatingRow | None:
        m = self._mark
        rows = self._query(
            f"SELECT {RATING_COLS} FROM ratings WHERE subject_kind = {m} AND subject_id = {m}"
            f" AND rater = {m}",
            (subject_kind, subject_id, rater),
        )
        return self._rating(rows[0]) if rows else None

    def list_ratings(
        self, *, station_ids: Sequence[str] | None = None, resident_id: str | None = None,
        subject_kind: str | None = None, subject_ids: Sequence[str] | None = None,
        rater: str | None = None, limit: int = 200,
    ) -> list[RatingRow]:  # fmt: skip
        m = self._mark
        where: list[str] = []
        params: list[Any] = []
        for column, values in (("station_id", station_ids), ("subject_id", subject_ids)):
            if values is not None:
                clause, bound = self._in(column, values)
                where.append(clause)
                params += bound
        for column, value in (("resident_id", resident_id), ("subject_kind", subject_kind),
                              ("rater", rater)):  # fmt: skip
            if value is not None:
                where.append(f"{column} = {m}")
                params.append(value)
        sql = f"SELECT {RATING_COLS} FROM ratings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._query(f"{sql} ORDER BY updated_at DESC, subject_id LIMIT {m}",
                           (*params, limit))  # fmt: skip
        return [self._rating(r) for r in rows]

    # --- alerts the follow-ups watch -------------------------------------------------------

    def resolved_alerts_since(
        self, after: float, until: float, limit: int = 1000
    ) -> list[tuple[str, float]]:
        m = self._mark
        rows = self._query(
            f"SELECT id, updated_at FROM alerts WHERE state = 'resolved' AND updated_at > {m}"
            f" AND updated_at <= {m} ORDER BY updated_at, id LIMIT {m}",
            (self._at(after), self._at(until), limit),
        )
        return [(r[0], self._rows.ts(r[1])) for r in rows]
