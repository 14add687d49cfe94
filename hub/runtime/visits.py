"""Visit housekeeping: the rules of :mod:`hub.visits` run against the store, periodically.

Each round (:meth:`VisitKeeper.round`, in a worker thread):

1. every active plan generates the visit tasks now due to exist (idempotent: a task's id
   is its resident and due date);
2. alerts resolved since the last round (a watermark in the store's progress table,
   ``visits.alarm_followups``; the last :data:`SETTLE_S` seconds are left for the next
   round) that call for a follow-up visit create it;
3. open tasks past their window that raised no alert yet each become a ``visit_overdue``
   finding, stored, marked on the task, and handed to the alert engine
   (``on_findings``), so they reach the console like any other finding.

:meth:`VisitKeeper.recorded` is called when a visit is recorded: the overdue alert clears
once the resident has no other alerted task open. The keeper runs beside the hub node as
one of its services (``carehub.serve``), on the hub's clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hub.backoff import periodically
from hub.errors import NotFound
from hub.store.base import FindingRow, Store, VisitTask
from hub.tasks import cancel_and_wait
from hub.timezones import DEFAULT_TIMEZONE
from hub.visits.followups import alarm_followup
from hub.visits.overdue import cleared_finding, overdue_finding
from hub.visits.schedule import plan_tasks

log = logging.getLogger(__name__)

FOLLOWUP_PROGRESS = "visits.alarm_followups"
FIRST_LOOK_BACK_S = 7 * 86_400.0
"""On the first round ever, alerts resolved this long before are looked at."""
SETTLE_S = 30.0
"""Alerts resolved in the last seconds are left for the next round: two resolutions
committed out of the order of their times (two requests at once) are both seen."""

OnFindings = Callable[[Sequence[FindingRow]], Awaitable[Any]]


class VisitKeeper:
    """See the module docstring. ``on_findings`` receives stored findings (with ids)."""

    def __init__(
        self, store: Store, *, clock: Callable[[], float] = time.time,
        default_timezone: str = DEFAULT_TIMEZONE, on_findings: OnFindings | None = None,
        every_s: float = 60.0, generate_every_s: float = 3600.0,
    ) -> None:  # fmt: skip
        self.store = store
        self.clock = clock
        self.default_timezone = default_timezone
        self.on_findings = on_findings
        self.every_s = every_s
        self.generate_every_s = generate_every_s
        self._generated_at = float("-inf")
        self._task: asyncio.Task[None] | None = None

    # --- one round ---------------------------------------------------------------------

    def _timezone(self, station_id: str) -> str:
        try:
            return self.store.get_station(station_id).timezone or self.default_timezone
        except NotFound:
            return self.default_timezone

    def generate(self, now: float, resident_id: str | None = None) -> int:
        """Create the plan tasks due to exist at ``now`` (of one resident's plan, or of
        every active plan, reading the registry in a few whole-table queries); return how
        many were new."""
        last = self.store.last_plan_due()
        if resident_id is None:
            plans = self.store.list_visit_plans(active=True)
            residents = {r.id: r for r in self.store.list_residents()}
            zones = {s.id: s.timezone for s in self.store.list_stations()}
            profiles = {p.resident_id: p for p in self.store.list_care_profiles()}
            self._generated_at = now
        else:
            plan = self.store.get_visit_plan(resident_id)
            plans = [plan] if plan is not None and plan.active else []
            residents = {resident_id: self.store.get_resident(resident_id)}
            station_id = residents[resident_id].station_id
            zones = {station_id: self.store.get_station(station_id).timezone}
            profile = self.store.get_care_profile(resident_id)
            profiles = {resident_id: profile} if profile else {}
        tasks: list[VisitTask] = []
        for plan in plans:
            resident = residents.get(plan.resident_id)
            if resident is None or resident.status == "inactive":
                continue
            tz = zones.get(resident.station_id) or self.default_timezone
            tasks += plan_tasks(plan, profiles.get(resident.id), resident.station_id, tz, now,
                                last.get(resident.id))  # fmt: skip
        return self.store.add_visit_tasks(tasks) if tasks else 0

    def alarm_followups(self, now: float) -> int:
        """Create the follow-ups of alerts resolved since the last round."""
        since = self.store.get_progress(FOLLOWUP_PROGRESS)
        resolved = self.store.resolved_alerts_since(
            now - FIRST_LOOK_BACK_S if since is None else since, now - SETTLE_S
        )
        tasks: list[VisitTask] = []
        for alert_id, _ in resolved:
            alert = self.store.get_alert(alert_id)
            data = alert.data
            resolved_at = float(data.get("resolved_at") or alert.updated_at)
            station = alert.station_id
            task = alarm_followup(
                alert.id, alert.kind, data.get("outcome"), alert.resident_id, station,
                resolved_at, self._timezone(station) if station else self.default_timezone,
            )  # fmt: skip
            if task is not None:
                tasks.append(task)
        added = self.store.add_visit_tasks(tasks) if tasks else 0
        if resolved:
            self.store.set_progress(FOLLOWUP_PROGRESS, resolved[-1][1])
        return added

    def overdue(self, now: float) -> list[FindingRow]:
        """Store a finding for each task newly overdue; return them with their ids."""
        tasks = self.store.unalerted_overdue(now)
        if not tasks:
            return []
        rows = [overdue_finding(t, now) for t in tasks]
        ids = self.store.write_findings(rows)
        self.store.mark_visit_alerted([t.id for t in tasks], now)
        found = [_with_id(r, i) for r, i in zip(rows, ids, strict=True)]
        # a visit recorded while this round ran saw no alert to clear: clear it here (a
        # done task has a record: one query for the whole round)
        for task_id in self.store.visit_records([t.id for t in tasks]):
            found += self.clearing(self.store.get_visit_task(task_id), now)
        return found

    def round(self, now: float) -> list[FindingRow]:
        """Steps 1–3 of the module docstring (synchronous: run in a worker thread). Plans
        generate every ``generate_every_s`` (tasks appear a week ahead; a changed plan
        generates at once through the API), follow-ups and overdue tasks every round."""
        if not (self._generated_at <= now < self._generated_at + self.generate_every_s):
            self.generate(now)
        self.alarm_followups(now)
        return self.overdue(now)

    async def step(self) -> None:
        findings = await asyncio.to_thread(self.round, self.clock())
        if findings and self.on_findings is not None:
            await self.on_findings(findings)

    # --- a visit was recorded ----------------------------------------------------------------

    def clearing(self, task: VisitTask, now: float) -> list[FindingRow]:
        """The finding that clears the resident's overdue alert, when ``task`` (just done)
        had raised it and no other alerted task of the resident is still open."""
        if task.alerted_at is None:
            return []
        still = self.store.list_visit_tasks(resident_id=task.resident_id, state="open",
                                            overdue_at=now)  # fmt: skip
        if any(t.alerted_at is not None for t in still):
            return []
        row = cleared_finding(task, now)
        [fid] = self.store.write_findings([row])
        return [_with_id(row, fid)]

    async def recorded(self, task: VisitTask) -> None:
        """``task`` was just recorded as done: clear its overdue alert if it had one."""
        findings = await asyncio.to_thread(self.clearing, task, self.clock())
        if findings and self.on_findings is not None:
            await self.on_findings(findings)

    # --- running beside the hub ----------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(
            periodically(self.every_s, self.step, "visit housekeeping", first_now=True),
            name="visits",
        )

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None


def _with_id(row: FindingRow, finding_id: int) -> FindingRow:
    return FindingRow(row.resident_id, row.device_id, row.kind, row.priority, row.at,
                      row.detected_at, row.evidence, row.reason, finding_id)  # fmt: skip
