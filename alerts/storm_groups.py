"""One alert for a connectivity storm that several cluster workers see a part of.

A worker's detectors see only the devices of the partitions it holds, and a station's
residents are spread over every partition: when the station's network fails, each worker's
:class:`hub.detect.connectivity.ConnectivityStorms` reports a storm at ``station:ID`` for
its share of the devices, and later reports it cleared for that share. Each worker's alert
engine on its own would open the storm's alert (the store refuses all but one: one open
alert per key), count only its own devices, and resolve it when its own share came back
while another worker's devices are still offline.

:class:`StormGroups` sits in front of a worker's engine for storm findings:

- a ``connectivity_loss`` finding first records this worker (``source``) and its device
  count for the storm in the store (:meth:`hub.store.base.StormStore.join_storm`, serialised
  per storm); the finding goes on with ``device_count`` the sum over every worker and
  ``workers`` their number;
- a ``connectivity_loss_cleared`` finding removes this worker's part
  (:meth:`~hub.store.base.StormStore.leave_storm`); while another worker still reports the
  storm it is only marked handled, and the alert stays open; the last one clears it;
- before either, the engine is given the storm's alert as the store holds it now (another
  worker may have opened, updated or resolved it), and when two workers open it at the same
  moment the one refused takes the other's alert and repeats on it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from alerts.engine import AlertEngine, Effect, FindingLike
from alerts.storage import from_row
from alerts.storms import STORM_KIND
from hub.errors import AlertExists, Conflict, NotFound
from hub.store.base import AlertChanges, Store, StormStore

log = logging.getLogger(__name__)

CLEARED = f"{STORM_KIND}_cleared"


def storm_key(f: FindingLike) -> str:
    """The place of a storm finding (``station:ID``, ``gateway:ID``, ``hub``)."""
    key = f.evidence.get("storm")
    return key if isinstance(key, str) and key else f.device_id


class StormGroups:
    """See the module docstring; ``feed`` runs in a worker thread, like the engine."""

    def __init__(self, engine: AlertEngine, store: Store, source: str) -> None:
        self.engine = engine
        self.store = store
        self.storms: StormStore = store  # type: ignore[assignment]
        self.source = source

    @staticmethod
    def wants(f: FindingLike) -> bool:
        return f.kind in (STORM_KIND, CLEARED)

    def feed(self, findings: Sequence[FindingLike], now: float) -> list[Effect]:
        effects: list[Effect] = []
        for f in findings:
            effects += self.one(f, now)
        return effects

    def one(self, f: FindingLike, now: float) -> list[Effect]:
        key = storm_key(f)
        if f.kind == STORM_KIND:
            count = f.evidence.get("device_count", 0)
            sources = self.storms.join_storm(key, self.source, int(count), f.at)
            evidence = {**f.evidence, "device_count": sum(sources.values()),
                        "workers": len(sources)}  # fmt: skip
            f = replace(f, evidence=evidence)  # type: ignore[type-var]
        else:
            left = self.storms.leave_storm(key, self.source)
            if left:
                self._handled(f, now)
                log.info("storm %s: this worker's part is over, %d workers still report it",
                         key, len(left))  # fmt: skip
                return []
        self._refresh(f)
        try:
            return self.engine.on_finding(f, now)
        except Conflict as exc:
            if isinstance(exc, AlertExists):
                raise
            # another worker opened the storm's alert at the same moment: repeat on it
            self._refresh(f)
            return self.engine.on_finding(f, now)

    def _refresh(self, f: FindingLike) -> None:
        """Give the engine the storm's alert as the store holds it now."""
        subject = f.device_id
        want = f"{subject}|{STORM_KIND}"
        rows = [
            r for r in self.store.list_alerts(kind=STORM_KIND, states=["open", "acknowledged"],
                                              limit=10_000)
            if from_row(r).key == want
        ]  # fmt: skip
        known = self.engine.open_alerts()
        for a in known:
            if a.key == want and all(r.id != a.id for r in rows):
                try:  # resolved (or changed) by another worker: as stored
                    rows.append(self.store.get_alert(a.id))
                except NotFound:
                    continue
        if rows:
            self.engine.remember(rows)

    def _handled(self, f: FindingLike, now: float) -> None:
        fid: Any = getattr(f, "id", None)
        if fid is not None:
            self.store.write_alert_changes(AlertChanges(handled_findings=[fid], handled_at=now))
