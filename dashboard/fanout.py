"""Cross-node fan-out: what any process commits reaches this dashboard's WebSocket clients.

In the cluster mode alerts are raised by whichever worker holds the resident's device, and
staff act on them through any dashboard node; no process sees every change in memory. The
store does: its triggers send a PostgreSQL NOTIFY carrying an id from inside each committing
transaction (migration 0018), and :class:`hub.store.postgres.listen.ChangeListener` hands
them here in batches. For each batch :class:`StoreFanout`

- re-reads the alerts named (a notification carries an id, never the row: payloads are
  capped at 8000 bytes, and the row may have moved on since) with the timeline entries
  notified beside them, and publishes one ``alert`` event per alert (``action``: its first
  new entry's); entries appended without an alert change (a
  family member's ``going_over``) become ``timeline`` events;
- publishes ``device`` events for devices going online or offline;
- refreshes the live registry when stations, residents or devices changed (its listeners
  publish the changed tiles, as for a change made here);
- tells this node's alert engine the fresh rows, so a member of staff acting here starts
  from what the store holds.

Why PostgreSQL and not a NATS subject: the NOTIFY is sent by the transaction that commits
the change, so it exists exactly when the change does (a process killed between commit and
publish would lose a NATS message); and every node already talks to PostgreSQL. Its limit —
delivered only to connections listening at commit — is covered by the listener's resync:
after a reconnection it re-reads the alerts changed since the last change number it saw.

Every change, including this node's own, comes this way: the broadcaster does not also
listen to the local engine (an event would reach consoles twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dashboard import queries
from hub.errors import NotFound
from hub.tasks import cancel_and_wait

if TYPE_CHECKING:
    from dashboard.deps import Context
    from dashboard.ws import Broadcaster
    from hub.store.base import AlertRow, TimelineRow
    from hub.store.postgres.listen import ChangeListener, Note

log = logging.getLogger(__name__)

KNOWN_MAX = 100_000
"""Alert change numbers remembered (to skip a change already published)."""


class StoreFanout:
    """See the module docstring; started and stopped by the dashboard's lifespan."""

    def __init__(self, ctx: Context, broadcaster: Broadcaster, url: str) -> None:
        self.ctx = ctx
        self.broadcaster = broadcaster
        self.url = url
        self.listener: ChangeListener | None = None
        self._task: asyncio.Task[None] | None = None
        self._published: dict[str, int] = {}
        """Alert id → the highest change number published for it."""
        self.published = 0

    async def start(self, wait_s: float = 10.0) -> None:
        from hub.store.postgres.listen import ChangeListener

        hub = self.ctx.hub.settings
        self.listener = ChangeListener(
            self.url, self.on_changes, retry_min_s=hub.retry_min_s, retry_max_s=hub.retry_max_s
        )
        self._task = asyncio.create_task(self.listener.run(), name="dashboard-fanout")
        with contextlib.suppress(TimeoutError):  # it keeps trying; /healthz says so
            await asyncio.wait_for(self.listener.connected.wait(), wait_s)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def report(self) -> dict[str, Any]:
        """For ``/healthz``: listening or not, and what it has done."""
        lst = self.listener
        if lst is None:
            return {"ok": False}
        return {
            "ok": lst.connected.is_set(), "connects": lst.connects, "resyncs": lst.resyncs,
            "notes": lst.notes, "published": self.published,
        }  # fmt: skip

    async def on_changes(self, notes: list[Note]) -> None:
        alerts: dict[str, int] = {}
        entries: dict[str, set[int]] = {}
        devices: dict[str, bool] = {}
        registry = False
        for n in notes:
            if n.kind == "a":
                if n.seq > max(alerts.get(n.id, 0), self._published.get(n.id, 0)):
                    alerts[n.id] = n.seq
            elif n.kind == "t":
                entries.setdefault(n.id, set()).add(n.seq)
            elif n.kind == "d":
                devices[n.id] = bool(n.seq)
            elif n.kind == "r":
                registry = True
        if registry:
            await self.ctx.hub.registry.refresh()
        if alerts or entries:
            rows, timeline = await asyncio.to_thread(self._read, alerts, entries)
            self._publish_alerts(alerts, rows, timeline)
        for device_id, online in devices.items():
            self._publish_device(device_id, online)

    def _read(
        self, alerts: dict[str, int], entries: dict[str, set[int]]
    ) -> tuple[dict[str, AlertRow], dict[str, list[TimelineRow]]]:
        store = self.ctx.store
        rows: dict[str, AlertRow] = {}
        for alert_id in {*alerts, *entries}:
            with contextlib.suppress(NotFound):
                rows[alert_id] = store.get_alert(alert_id)
        timeline: dict[str, list[TimelineRow]] = {}
        for alert_id, ids in entries.items():
            found = store.alert_timeline(alert_id=alert_id, limit=100_000)
            timeline[alert_id] = [e for e in found if e.id in ids]
        self.ctx.hub.alert_engine.remember([rows[a] for a in alerts if a in rows])
        return rows, timeline

    def _publish_alerts(
        self, alerts: dict[str, int], rows: dict[str, AlertRow],
        timeline: dict[str, list[TimelineRow]],
    ) -> None:  # fmt: skip
        b = self.broadcaster
        for alert_id, row in rows.items():
            found = timeline.get(alert_id, [])
            if alert_id not in alerts:  # entries only: written beside the alert
                data = queries.alert_json(row)
                for entry in found:
                    b.timeline_entry(data, entry)
                continue
            self._remember(alert_id, alerts[alert_id])
            b.publish("alert", {"action": _action(found), "alert": queries.alert_json(row),
                                "entries": [_entry(e) for e in found]},
                      station_id=row.station_id, resident_id=row.resident_id,
                      category=row.category)  # fmt: skip
            self.published += 1

    def _remember(self, alert_id: str, seq: int) -> None:
        if len(self._published) >= KNOWN_MAX:  # forget the oldest half
            keep = sorted(self._published.items(), key=lambda kv: kv[1])[KNOWN_MAX // 2 :]
            self._published = dict(keep)
        self._published[alert_id] = seq

    def _publish_device(self, device_id: str, online: bool) -> None:
        snap = self.ctx.hub.registry.snapshot
        d = snap.devices.get(device_id)
        if d is None:
            return
        self.broadcaster.publish(
            "device", {"device_id": d.id, "resident_id": d.resident_id, "online": online,
                       "at": self.ctx.clock()},
            station_id=snap.station_of(d.resident_id), resident_id=d.resident_id,
            category="technical", vendor=d.vendor,
        )  # fmt: skip


def _action(entries: Iterable[TimelineRow]) -> str:
    """The step's own entry comes first (``opened``, ``acknowledged``...); what it caused
    (a command sent, a notification queued) is written after it."""
    return next((e.action for e in entries), "updated")


def _entry(e: TimelineRow) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(e)
