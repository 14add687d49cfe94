"""Live vitals on a dashboard-only node: the telemetry that workers committed, read back.

A dashboard-only node (``carehub serve --dashboard-only``) runs no ingest pipeline, and
telemetry is not notified (a NOTIFY per message would flood the change feed that
:mod:`dashboard.fanout` follows). So :class:`StoreVitals` reads the store every
``ws_vitals_s`` instead: one query for the newest row of each device received since the
last read (:meth:`hub.store.base.Store.latest_received`), each published as the ``vitals``
event the pipeline's observer publishes (:meth:`dashboard.ws.Broadcaster.vitals`), to the
consoles that may see the resident.

Each read reaches back :data:`OVERLAP_S` before the newest receive time already seen: a
worker stamps ``received_at`` when a message arrives and commits it with its batch a little
later, so a row may become visible after a newer one of another device was read. A row is
published only when it is newer than what was published for its device, so the overlap
never sends the same (device, seq) twice and never takes a tile back to an older reading.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from hub.errors import CarehubError
from hub.tasks import cancel_and_wait

if TYPE_CHECKING:
    from dashboard.deps import Context
    from dashboard.ws import Broadcaster
    from hub.store.base import TelemetryRow

log = logging.getLogger(__name__)

OVERLAP_S = 30.0
"""How far before the newest receive time seen each read reaches: well over a worker's
batch delay and write retries, so a late commit is still found."""


class StoreVitals:
    """See the module docstring; started and stopped by the dashboard's lifespan.

    ``every_s`` defaults to the dashboard's ``ws_vitals_s``; ``clock`` (the dashboard's by
    default) gives the first read's mark: readings received before the node started are
    already on the snapshot's tiles.
    """

    def __init__(
        self, ctx: Context, broadcaster: Broadcaster, *, every_s: float | None = None,
        clock: Callable[[], float] | None = None, overlap_s: float = OVERLAP_S,
    ) -> None:  # fmt: skip
        self.ctx = ctx
        self.broadcaster = broadcaster
        self.every_s = every_s if every_s is not None else ctx.settings.ws_vitals_s
        self.clock = clock or ctx.clock
        self.overlap_s = overlap_s
        self.mark: float | None = None
        """The newest receive time read so far."""
        self._published: dict[str, tuple[float, int]] = {}
        """Device id → (received_at, seq) of the row last published, while in the overlap."""
        self._task: asyncio.Task[None] | None = None
        self.reads = 0
        self.published = 0
        self.failures = 0

    async def start(self) -> None:
        self.mark = self.clock()
        self._task = asyncio.create_task(self._run(), name="dashboard-vitals")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.read()
            except Exception:  # a bug must not end the tiles' vitals for good
                log.exception("publishing the latest vitals failed")

    async def read(self) -> int:
        """One read: publish each device's newest reading since the last; how many. A store
        error is logged and counted, and the next read tries again from the same mark."""
        if self.mark is None:
            self.mark = self.clock()
        since = self.mark - self.overlap_s
        try:
            rows = await asyncio.to_thread(self.ctx.store.latest_received, since)
        except CarehubError as exc:
            self.failures += 1
            log.warning("reading the latest vitals failed (trying again in %g s): %s",
                        self.every_s, exc)  # fmt: skip
            return 0
        self.reads += 1
        self.mark = max([self.mark, *(r.received_at for r in rows)])
        return self._publish(rows, since)

    def _publish(self, rows: list[TelemetryRow], since: float) -> int:
        devices = self.ctx.hub.registry.snapshot.devices
        count = 0
        for row in rows:
            newest = (row.received_at, row.seq)
            before = self._published.get(row.device_id)
            if before is not None and newest <= before:
                continue  # published already, or older than what the tile shows
            d = devices.get(row.device_id)
            if d is None or d.resident_id is None:
                continue
            self._published[row.device_id] = newest
            if self.broadcaster.vitals(d.id, d.resident_id, row.values, row.received_at):
                count += 1
        # a row received at or before ``since`` is never read again: forget it
        self._published = {k: v for k, v in self._published.items() if v[0] > since}
        self.published += count
        return count
