"""Score the hub's alerts against a run's ground truth.

Every alert the hub opened or repeated for a resident of the run is an *occurrence* (the
alert's timeline entries ``opened`` and ``repeated``, at hub time; the hub must run on the
simulated clock, see :mod:`device_sim.clock`). A truth incident is **detected** when an
occurrence of its alert kind for its resident falls in ``[start - EARLY_S, deadline]``; its
delay is the first such occurrence minus ``start``. An alert is a **true positive** when
any of its occurrences matches an incident's kind or one of the kinds the incident also
legitimately raises (``also``); otherwise it is a false alert.

Per kind: ``recall`` = detected / incidents, ``precision`` = true-positive alerts / alerts
(``None`` when there is nothing to divide by), delays p50/p90 in seconds.
``false_alerts_per_resident_day`` = false alerts / (residents × days of the run).

>>> from device_sim.incidents import RunInfo, TruthRecord
>>> run = RunInfo("t", 1, 0.0, 86_400.0, 1.0, ("r1",))
>>> truth = [TruthRecord("i1", "fall", "r1", 100.0, 100.0, 300.0, "fall")]
>>> occ = [Occurrence("a1", "fall", "r1", 130.0), Occurrence("a2", "sos", "r1", 500.0)]
>>> s = score(run, truth, occ)
>>> fall = s["kinds"]["fall"]
>>> fall["recall"], fall["delay_p50_s"], s["false_alerts_per_resident_day"]
(1.0, 30.0, 1.0)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from device_sim.incidents import RunInfo, TruthRecord
from hub.store.base import Store

EARLY_S = 60.0
"""An alert a little before the scripted start still counts (device clocks, bursts)."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An alert opened or repeated at hub time ``at``."""

    alert_id: str
    kind: str
    resident_id: str | None
    at: float


def _matches(o: Occurrence, r: TruthRecord, kinds: tuple[str, ...]) -> bool:
    return (o.kind in kinds and o.resident_id == r.resident_id
            and r.start - EARLY_S <= o.at <= r.deadline)  # fmt: skip


def score(run: RunInfo, truth: Sequence[TruthRecord], occurrences: Sequence[Occurrence]
          ) -> dict[str, Any]:  # fmt: skip
    """The score object printed by ``carehub sim score --json``."""
    scored = [r for r in truth if r.alert is not None]
    by_kind: dict[str, list[TruthRecord]] = defaultdict(list)
    for r in scored:
        by_kind[r.alert or ""].append(r)
    true_alerts: set[str] = set()
    delays: dict[str, list[float]] = defaultdict(list)
    detected: dict[str, int] = defaultdict(int)
    for r in scored:
        primary = [o for o in occurrences if _matches(o, r, (r.alert or "",))]
        if primary:
            detected[r.alert or ""] += 1
            delays[r.alert or ""].append(max(0.0, min(o.at for o in primary) - r.start))
        true_alerts.update(o.alert_id for o in occurrences
                           if _matches(o, r, (r.alert or "", *r.also)))  # fmt: skip
    alerts_of: dict[str, set[str]] = defaultdict(set)
    for o in occurrences:
        alerts_of[o.kind].add(o.alert_id)
    kinds: dict[str, dict[str, float | None]] = {}
    for kind in sorted(set(by_kind) | set(alerts_of)):
        n_truth, ids = len(by_kind.get(kind, ())), alerts_of.get(kind, set())
        d = delays.get(kind, [])
        kinds[kind] = {
            "recall": detected[kind] / n_truth if n_truth else None,
            "precision": len(ids & true_alerts) / len(ids) if ids else None,
            "delay_p50_s": float(np.percentile(d, 50)) if d else None,
            "delay_p90_s": float(np.percentile(d, 90)) if d else None,
            "incidents": n_truth,
            "alerts": len(ids),
        }
    all_ids = {o.alert_id for o in occurrences}
    false = len(all_ids - true_alerts)
    days = run.resident_days
    return {
        "kinds": kinds,
        "false_alerts": false,
        "false_alerts_per_resident_day": false / days if days > 0 else None,
        "resident_days": days,
    }


def occurrences_from_store(store: Store, run: RunInfo, slack_s: float = 0.0) -> list[Occurrence]:
    """Occurrences of the run's residents' alerts within the run (plus ``slack_s``): after
    the run its devices fall silent, and the offline alerts that follow are not the hub's fault."""
    lo, hi = run.epoch - EARLY_S, run.end + slack_s
    return [
        Occurrence(alert.id, alert.kind, alert.resident_id, t.at)
        for rid in run.residents
        for alert in store.list_alerts(resident_id=rid, limit=100_000)
        for t in store.alert_timeline(alert_id=alert.id)
        if t.action in ("opened", "repeated") and lo <= t.at <= hi
    ]
