"""The finding an overdue visit raises, and the one that clears it.

A visit or follow-up task still open past its window is a ``visit_overdue`` finding of
**medium** priority about its resident (the resident's station sees the alert; escalation,
silences, the console and notifications work as for any alert). It is raised once per
task (the store records ``alerted_at``). Recording the visit clears it
(``visit_overdue_cleared``) once no other alerted task of the resident is still open: an
alert nobody acknowledged resolves itself; an acknowledged one records that the condition
cleared, for the person who took it.

The finding's ``device_id`` is ``visit:<task id>`` (findings name their source; a visit
task has no device), its time the instant the task became overdue.

>>> from hub.store.protocols.visits import VisitTask
>>> task = VisitTask("visit:r-1:2026-03-04", "r-1", "st-1", "visit", "plan", "2026-03-04", 2,
...                  1772812800.0, 1772467200.0)
>>> f = overdue_finding(task, 1772813000.0)
>>> f.kind, f.priority, f.device_id
('visit_overdue', 'medium', 'visit:visit:r-1:2026-03-04')
>>> f.reason["en"]
'Visit overdue: due 2026-03-04, 2 days late allowed'
"""

from __future__ import annotations

from typing import Final

from hub.store.protocols.findings import FindingRow
from hub.store.protocols.visits import VisitTask

OVERDUE_KIND: Final = "visit_overdue"
CLEARED_KIND: Final = "visit_overdue_cleared"
_WHAT = {"visit": ("探访", "Visit"), "followup": ("回访", "Follow-up visit")}


def source_of(task: VisitTask) -> str:
    return f"visit:{task.id}"


def overdue_finding(task: VisitTask, now: float) -> FindingRow:
    zh, en = _WHAT[task.kind]
    return FindingRow(
        resident_id=task.resident_id, device_id=source_of(task), kind=OVERDUE_KIND,
        priority="medium", at=task.overdue_at, detected_at=now,
        evidence={"task_id": task.id, "task_kind": task.kind, "due_on": task.due_on,
                  "window_days": task.window_days, "station_id": task.station_id},
        reason={"zh-CN": f"{zh}逾期：应于 {task.due_on} 完成（可晚 {task.window_days} 天）",
                "en": f"{en} overdue: due {task.due_on}, {task.window_days} days late allowed"},
    )  # fmt: skip


def cleared_finding(task: VisitTask, now: float) -> FindingRow:
    zh, en = _WHAT[task.kind]
    return FindingRow(
        resident_id=task.resident_id, device_id=source_of(task), kind=CLEARED_KIND,
        priority="low", at=now, detected_at=now,
        evidence={"task_id": task.id, "clears": OVERDUE_KIND, "station_id": task.station_id},
        reason={"zh-CN": f"{zh}已完成（应于 {task.due_on}）",
                "en": f"{en} done (due {task.due_on})"},
    )  # fmt: skip
