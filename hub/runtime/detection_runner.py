"""The asynchronous side of detection: feeds :class:`hub.detect.router.Detection` from the
pipeline, ticks it, keeps its registry current, stores the findings and passes them on.

Alarm-class messages (events, status) are run through the detectors as soon as their batch
is committed. Telemetry is run in slices of :data:`SLICE` messages with a turn for the
event loop in between: the vital-sign detectors cost some 0.1–0.2 ms a message, so one
telemetry batch of a busy district held the loop for tens of milliseconds, and an SOS
committed meanwhile waited behind it (``bench/ws.py``).

Absences (a device's silence, a resident's long bathroom stay, inactivity, no return to
bed...) are judged only up to :meth:`DetectionRunner.horizon`, the receive time of the
oldest message that has not been through the detectors yet, both on ticks and on the
alarm-class batches: a device whose message waits in a batch (a slow commit, a store
outage, a pause of the hub) has not gone quiet, and a resident whose bathroom exit waits
behind a backlog is not still in the bathroom.

Findings are written in the order they were found, one batch at a time, in a worker
thread; only stored findings (with their ids) reach the listeners (the alert engine), so an
alert always points at evidence that exists. A store outage is retried; findings wait in a
queue meanwhile (a growing backlog is logged), never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from hub.backoff import Backoff, periodically, retry
from hub.detect.router import Detection
from hub.errors import CarehubError
from hub.ingest.core import Accepted
from hub.metrics import HubMetrics
from hub.runtime.replay import WATERMARK, accepted_from_rows, new_findings
from hub.store.base import FindingRow, Store

log = logging.getLogger(__name__)

BACKLOG_WARN = 100
SLICE = 32
"""Telemetry messages run through the detectors before the event loop gets a turn."""
Listener = Callable[[Sequence[FindingRow]], Awaitable[None] | None]


class DetectionRunner:
    """Runs detection for one hub; see the module docstring."""

    def __init__(
        self,
        store: Store,
        detection: Detection,
        metrics: HubMetrics,
        *,
        clock: Callable[[], float],
        tick_s: float = 5.0,
        registry_refresh_s: float | None = 5.0,
        upstream: Callable[[], float] = lambda: math.inf,
        warmup_s: float = 900.0,
    ) -> None:
        self.store = store
        self.warmup_s = warmup_s
        """A restart runs the messages received this long before the watermark through the
        detectors first, their findings discarded: a detector that confirms over a window
        (a vital sign held for minutes) picks up where it was instead of starting again."""
        self.detection = detection
        self.metrics = metrics
        self.clock = clock
        self.tick_s = tick_s
        self.registry_refresh_s = registry_refresh_s
        self.upstream = upstream
        """Receive time of the oldest message not yet handed to :meth:`observe`
        (:meth:`hub.runtime.pipeline.Pipeline.horizon`)."""
        self.listeners: list[Listener] = []
        self.written = 0
        # Unbounded on purpose: findings are few (a handful per resident per day) and one
        # must never be dropped; a growing backlog is reported instead.
        self._queue: asyncio.Queue[list[FindingRow]] = asyncio.Queue()
        self._sources: deque[float] = deque()  # earliest receive time behind each queued batch
        self._saved = -math.inf  # the watermark last stored
        self._telemetry: asyncio.Queue[list[Accepted]] = asyncio.Queue()
        self._waiting: deque[float] = deque()  # first receive time of each queued batch
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.refresh_registry(with_states=True)
        await self.replay()
        self._tasks = [
            asyncio.create_task(self._write_loop(), name="findings-write"),
            asyncio.create_task(self._telemetry_loop(), name="detection-telemetry"),
            asyncio.create_task(self._tick_loop(), name="detection-tick"),
        ]
        if self.registry_refresh_s is not None:  # None: a LiveRegistry keeps it current
            self._tasks.append(asyncio.create_task(self._refresh_loop(), name="detection-registry"))

    async def stop(self) -> None:
        """Stop ticking, store what was found, then stop."""
        tasks, self._tasks = self._tasks, []
        for task in tasks[2:]:
            task.cancel()
        await self._telemetry.join()
        await self._queue.join()
        for task in tasks[:2]:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(CarehubError):  # the next start replays a little more
            await self.save_watermark()

    async def replay(self) -> int:
        """Run the messages stored after the durable watermark through the detectors again
        (:mod:`hub.runtime.replay`); returns how many. Their findings are stored and passed
        on once the runner's tasks run; those already stored are not found twice."""
        mark = await asyncio.to_thread(self.store.get_progress, WATERMARK)
        now = self.clock()
        if mark is None:  # a new store: nothing was left half done
            await asyncio.to_thread(self.store.set_progress, WATERMARK, now)
            self._saved = now
            return 0
        devices = {d.id: d for d in await asyncio.to_thread(self.store.list_devices)}
        if self.warmup_s > 0:  # through detection before the restart: only the state is wanted
            before = await asyncio.to_thread(
                self.store.received_between, mark - self.warmup_s, mark
            )
            warmup = accepted_from_rows(devices, *before)
            self.detection.observe(warmup)
        telemetry, events = await asyncio.to_thread(self.store.received_between, mark, now)
        status = await asyncio.to_thread(self.store.status_between, mark, now)
        batch = accepted_from_rows(devices, telemetry, events, status)
        if not batch:
            return 0
        log.warning("replaying %d messages stored after the detection watermark (%.1f s)",
                    len(batch), now - mark)  # fmt: skip
        found = self.detection.observe(batch)
        if found:
            stored = await asyncio.to_thread(self.store.findings, since=mark, limit=100_000)
            self._enqueue(new_findings(found, stored), batch[0].received_at)
        self.metrics.replayed.inc(len(batch))
        return len(batch)

    def watermark(self) -> float:
        """Up to this receive time every message has been through the detectors and every
        finding from it through the listeners (the alert engine); ``inf`` when nothing waits."""
        return min(self.horizon(), min(self._sources, default=math.inf))

    async def save_watermark(self) -> None:
        """Store :meth:`watermark` (the clock when nothing waits) when it moved forward."""
        mark = self.watermark()
        mark = self.clock() if math.isinf(mark) else mark
        if mark > self._saved:
            await asyncio.to_thread(self.store.set_progress, WATERMARK, mark)
            self._saved = mark

    async def refresh_registry(self, *, with_states: bool = False) -> None:
        devices = await asyncio.to_thread(self.store.list_devices)
        residents = await asyncio.to_thread(self.store.list_residents)
        states = await asyncio.to_thread(self.store.device_states) if with_states else []
        stations = await asyncio.to_thread(self.store.list_stations)
        self.detection.set_registry(devices, residents, states, stations)

    def observe(self, batch: Sequence[Accepted]) -> None:
        """Pipeline observer: called after each committed batch, on the event loop."""
        alarms = [a for a in batch if a.msg_type != "telemetry"]
        telemetry = [a for a in batch if a.msg_type == "telemetry"]
        if alarms:
            found = self.detection.observe(alarms, horizon=self.horizon())
            self._enqueue(found, alarms[0].received_at)
        if not telemetry:
            return
        if not self._tasks:  # not started (a test driving it by hand): no loop to slice for
            self._enqueue(self.detection.observe(telemetry), telemetry[0].received_at)
            return
        self._waiting.append(telemetry[0].received_at)  # batches keep the receive order
        self._telemetry.put_nowait(telemetry)
        if self._telemetry.qsize() > BACKLOG_WARN:
            log.warning("%d telemetry batches wait for the detectors", self._telemetry.qsize())

    def horizon(self) -> float:
        """Up to this receive time every message has been through the detectors."""
        return min(self.upstream(), self._waiting[0] if self._waiting else math.inf)

    async def flush(self) -> None:
        """Wait until every finding found so far is stored and handed to the listeners."""
        await self._telemetry.join()
        await self._queue.join()

    async def _telemetry_loop(self) -> None:
        while True:
            batch = await self._telemetry.get()
            try:
                for i in range(0, len(batch), SLICE):
                    part = batch[i : i + SLICE]
                    self._enqueue(self.detection.observe(part), part[0].received_at)
                    await asyncio.sleep(0)  # an alarm committed meanwhile goes first
            finally:
                self._waiting.popleft()
                self._telemetry.task_done()

    def _enqueue(self, rows: list[FindingRow], source: float = math.inf) -> None:
        """Queue findings to store; ``source`` is the receive time of the earliest message
        they came from (``inf`` for the tick's, which come from no message)."""
        if not rows:
            return
        self._sources.append(source)
        self._queue.put_nowait(rows)
        if self._queue.qsize() > BACKLOG_WARN:
            log.warning("%d batches of findings wait to be stored", self._queue.qsize())

    async def _write_loop(self) -> None:
        while True:
            rows = await self._queue.get()
            try:
                await self._write(rows)
            finally:
                self._sources.popleft()
                self._queue.task_done()

    async def _write(self, rows: list[FindingRow]) -> None:
        ids = await retry(
            lambda: asyncio.to_thread(self.store.write_findings, rows),
            backoff=Backoff(initial_s=0.1, max_s=10.0),
            what=f"storing {len(rows)} findings failed",
        )
        # a cluster worker's store gives no id to a finding it did not keep (stored before by
        # the partition's previous owner, or a partition this worker no longer holds)
        stored = [replace(r, id=i) for r, i in zip(rows, ids, strict=True) if i is not None]
        self.written += len(stored)
        for row in stored:
            self.metrics.findings.labels(row.kind, row.priority).inc()
        for listener in self.listeners:
            try:
                result = listener(stored)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("findings listener %r failed", listener)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                self._enqueue(self.detection.tick(self.clock(), horizon=self.horizon()))
            except Exception:
                log.exception("detection tick failed")
            try:
                await self.save_watermark()
            except CarehubError as exc:
                log.warning("could not store the detection watermark: %s", exc)

    async def _refresh_loop(self) -> None:
        every = self.registry_refresh_s or 5.0
        await periodically(every, self.refresh_registry, "detection registry refresh")
