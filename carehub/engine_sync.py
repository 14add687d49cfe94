"""A cluster worker's alert engine follows the alert changes other processes commit.

Each worker's engine keeps the unresolved alerts of its residents in memory (it decides
repeats, escalation rounds and clears from there). In the cluster mode staff acknowledge,
assign and resolve through a dashboard node (``carehub serve --dashboard-only``), and the
worker holding partition 0 runs every alert's timers: without this, its memory would still
hold an acknowledged alert as open and escalate it. :class:`EngineSync` listens to the
store's change notifications (:mod:`hub.store.postgres.listen`) and hands every changed
alert, as stored, to the engine (:meth:`alerts.engine.AlertEngine.remember`), which reads
the alert's outbox with it: messages cancelled elsewhere are forgotten (the runner does not
wake for them) and those added elsewhere are known (an acknowledgement here cancels them).

A step of this engine that started before the notification arrived (milliseconds) works
from what it knew, but cannot write it over the newer alert: the store writes an alert only
over the version it was read at, and the engine decides such a step again on the alert as
stored (:class:`hub.errors.AlertConflict`; :mod:`alerts.engine`, "Other processes"); the
same holds for its outbox rows, so a delivery result never overwrites a cancellation. A row
re-read before this engine's own later change of it is left out by the versions too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from alerts.engine import AlertEngine
from hub.errors import NotFound
from hub.store.base import AlertRow, Store
from hub.store.postgres.listen import ChangeListener, Note
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class EngineSync:
    """See the module docstring; :meth:`start` and :meth:`stop` from the event loop."""

    def __init__(self, engine: AlertEngine, store: Store, url: str, name: str) -> None:
        self.engine = engine
        self.store = store
        self.listener = ChangeListener(url, self._changed, application_name=f"carehub-{name}")
        self._task: asyncio.Task[None] | None = None
        self.remembered = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self.listener.run(), name="engine-sync")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _changed(self, notes: list[Note]) -> None:
        ids = sorted({n.id for n in notes if n.kind == "a"})
        if ids:
            await asyncio.to_thread(self._remember, ids)

    def _remember(self, ids: list[str]) -> None:
        rows: list[AlertRow] = []
        for alert_id in ids:
            with contextlib.suppress(NotFound):
                rows.append(self.store.get_alert(alert_id))
        self.engine.remember(rows)
        self.remembered += len(rows)
