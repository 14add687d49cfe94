"""The asynchronous side of ingestion: MQTT source → :class:`hub.ingest.core.Ingest` → store.

One task consumes the adapter's queue and calls :meth:`Ingest.handle`; a batch is handed to
the writer when it holds ``max_rows`` rows, when ``max_delay_s`` has passed since its first
row, or at once when it holds an alarm-class message (events, status, refusals). The writer
task writes one batch at a time in a worker thread, retrying with back-off
(:func:`hub.backoff.retry`) while the store is unavailable (nothing is dropped, nothing
acknowledged), and splitting out the rows the
store refuses as data, which become dead letters (:mod:`hub.runtime.poison`: one poison
message never holds up the rest); only after the commit does it acknowledge QoS 1
messages (telemetry included), publish error reports and tell the observers (detectors,
alert engine). While the writer is busy the next batch keeps filling, so the store sees few,
large transactions under load and tiny, immediate ones when it is quiet.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from hub.backoff import Backoff, periodically, retry
from hub.errors import CarehubError
from hub.ingest.core import Accepted, Ingest, Pending
from hub.metrics import HubMetrics
from hub.runtime.poison import BatchCommit
from hub.store.base import Store
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Observer = Callable[[Sequence[Accepted]], None]


class Source(Protocol):
    """The MQTT adapter as the pipeline uses it."""

    async def get_batch(self, max_items: int = 500) -> list[Any]:
        """Wait for at least one message, then take what is queued, up to ``max_items``."""
        ...

    def oldest_waiting(self) -> float | None:
        """Receive time of the oldest message not yet taken (``None`` when none waits)."""
        ...

    def ack(self, inbound: Any) -> Any: ...
    def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int = 0,
        retain: bool = False,
        *,
        droppable: bool = False,
    ) -> Any:
        """Send a message; a ``droppable`` one (an error report) may be dropped instead,
        returning ``None``, so that commands to devices never wait behind reports."""
        ...


class Pipeline:
    """Runs ingestion until cancelled; see the module docstring."""

    def __init__(
        self,
        store: Store,
        source: Source,
        ingest: Ingest,
        *,
        metrics: HubMetrics | None = None,
        max_rows: int = 2000,
        max_delay_s: float = 0.25,
        registry_refresh_s: float | None = 5.0,
        recent_seq_s: float = 86_400.0,
        dead_letter_days: float = 30.0,
        dead_letter_keep: int = 100_000,
        prune_every_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.source = source
        self.ingest = ingest
        self.metrics = metrics or ingest.metrics
        self.max_rows = max_rows
        self.max_delay_s = max_delay_s
        self.registry_refresh_s = registry_refresh_s
        self.recent_seq_s = recent_seq_s
        self.dead_letter_days = dead_letter_days
        self.dead_letter_keep = dead_letter_keep
        self.prune_every_s = prune_every_s
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        """Waits between attempts of a batch the store could not take (tests pass a fake)."""
        self.observers: list[Observer] = []
        self.store_for: Callable[[Pending], Store] | None = None
        """The store a batch is committed to, chosen per batch (a cluster worker's fenced
        view, which carries the batch's partition epoch and stream sequence); ``None``:
        :attr:`store`."""
        self.batches_written = 0
        self._batches: asyncio.Queue[Pending] = asyncio.Queue(maxsize=2)
        # Alarm-class work has its own queue and writer: it never waits behind telemetry.
        self._urgent: asyncio.Queue[Pending] = asyncio.Queue(maxsize=64)
        self._tasks: list[asyncio.Task[None]] = []
        self._filling = math.inf  # oldest receive time in the batch being filled
        self._in_flight: dict[int, float] = {}  # id(batch) -> its oldest receive time

    # --- lifecycle -----------------------------------------------------------------------

    async def prepare(self) -> None:
        """Load the registry and rebuild the duplicate filter from the store."""
        await self.refresh_registry()
        since = self.clock() - self.recent_seq_s
        states = await asyncio.to_thread(self.store.device_states)
        recent = await asyncio.to_thread(self.store.recent_seqs, since)
        self.ingest.seed(states, recent)

    async def start(self) -> None:
        await self.prepare()
        self._tasks = [
            asyncio.create_task(self._consume(), name="ingest-consume"),
            asyncio.create_task(self._write(self._batches), name="ingest-write"),
            asyncio.create_task(self._write(self._urgent), name="ingest-write-urgent"),
            asyncio.create_task(self._prune_loop(), name="dead-letter-retention"),
        ]
        if self.registry_refresh_s is not None:  # None: a LiveRegistry keeps it current
            self._tasks.append(asyncio.create_task(self._refresh_loop(), name="ingest-registry"))

    async def stop(self) -> None:
        """Stop consuming, write what is pending, then stop the writer."""
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks[:1])  # the consumer first: nothing new enters
        await self._hand_off()
        if tasks:
            await self.drain()
        for task in tasks[1:]:
            await cancel_and_wait(task)

    async def abandon(self) -> None:
        """Stop at once, writing nothing more and acknowledging nothing more (a cluster
        worker that lost its partition: what is pending belongs to the next owner)."""
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(*tasks)

    async def drain(self) -> None:
        """Wait until every batch handed to the writer is committed."""
        await self._urgent.join()
        await self._batches.join()

    async def flush(self) -> None:
        """Hand over what is pending now and wait for it to be committed (tests, shutdown)."""
        await self._hand_off()
        await self.drain()

    def horizon(self) -> float:
        """The receive time of the oldest message that the observers have not seen yet:
        waiting in the source, in the batch being filled or in a batch not yet committed
        (``inf`` when there is none). Up to this time the observers know every message, so
        silence is judged only up to it: a slow commit or a store outage is not a device
        that went quiet."""
        waiting = self.source.oldest_waiting()
        return min(
            self._filling, math.inf if waiting is None else waiting, *self._in_flight.values()
        )

    async def refresh_registry(self) -> None:
        devices = await asyncio.to_thread(self.store.list_devices)
        self.ingest.set_devices(devices)

    # --- tasks ---------------------------------------------------------------------------

    async def _consume(self) -> None:
        first_at: float | None = None
        while True:
            timeout = None
            if first_at is not None:
                timeout = max(0.0, first_at + self.max_delay_s - self.monotonic())
            try:
                # in this task (not wait_for's): a message taken is handled in the same step,
                # so it is never out of sight of horizon()
                async with asyncio.timeout(timeout):
                    msgs = await self.source.get_batch(500)
            except TimeoutError:
                msgs = []
            if msgs:  # taken in the order received: the first is the oldest
                self._filling = min(self._filling, msgs[0].received_at)
            for msg in msgs:
                self.ingest.handle(msg)
            self._ack_now()
            pending = self.ingest.pending
            if not pending.empty():
                first_at = first_at if first_at is not None else self.monotonic()
            elif msgs:  # only duplicates or echoes: nothing to write, but count them now
                self.ingest.flush_counts()
            due = first_at is not None and (
                not msgs
                or pending.urgent
                or pending.rows() >= self.max_rows
                or self.monotonic() - first_at >= self.max_delay_s
            )
            if due:
                await self._hand_off()
                first_at = None

    def _ack_now(self) -> None:
        for inbound in self.ingest.ack_now:
            self.source.ack(inbound)
        self.ingest.ack_now.clear()

    async def _hand_off(self) -> None:
        pending = self.ingest.take()
        oldest, self._filling = self._filling, math.inf
        if pending.empty():
            return
        self.metrics.pending_rows.set(pending.rows())
        if pending.urgent:
            urgent, bulk = pending.split()
            self._in_flight[id(urgent)] = oldest
            await self._urgent.put(urgent)
            if bulk.telemetry or bulk.seen:
                self._in_flight[id(bulk)] = oldest
                await self._batches.put(bulk)
            return
        self._in_flight[id(pending)] = oldest
        await self._batches.put(pending)  # bounded: a slow store slows intake, loses nothing

    async def _write(self, queue: asyncio.Queue[Pending]) -> None:
        while True:
            pending = await queue.get()
            try:
                await self._commit(pending)
            finally:
                self._in_flight.pop(id(pending), None)  # observed (or the hub is stopping)
                queue.task_done()

    async def _commit(self, pending: Pending) -> None:
        # Rows the store refuses as data are split out and kept as dead letters (see
        # hub.runtime.poison); only an unavailable store is retried, from where it stopped.
        commit = BatchCommit(pending)
        started = self.monotonic()
        store = self.store if self.store_for is None else self.store_for(pending)

        async def attempt() -> None:
            nonlocal started
            started = self.monotonic()  # the batch's time is its successful attempt's
            await asyncio.to_thread(commit.run, store)

        await retry(
            attempt,
            backoff=Backoff(initial_s=0.1, max_s=10.0),
            what=f"store write of {len(commit.main.batch)} rows failed",
            on_failure=lambda _exc, _delay: self.metrics.store_failures.inc(),
            sleep=self.sleep,
        )
        self.metrics.batch_seconds.observe(self.monotonic() - started)
        self.metrics.batch_rows.observe(len(commit.main.batch))
        self.batches_written += 1
        commit.settle(self.metrics, now=self.clock())
        for inbound in pending.acks:
            self.source.ack(inbound)
        for inbound in pending.telemetry_acks:
            self.source.ack(inbound)
        dropped = 0
        for out in pending.outbox:
            try:
                sent = self.source.publish(
                    out.topic, out.payload, qos=out.qos, retain=out.retain,
                    droppable=out.droppable,
                )  # fmt: skip
            except CarehubError as exc:
                log.warning("could not publish %s: %s", out.topic, exc)
                continue
            if sent is None and out.droppable:
                dropped += 1
        if dropped:
            self.metrics.reports_dropped.inc(dropped)
        if pending.accepted:
            for observer in self.observers:
                try:
                    observer(pending.accepted)
                except Exception:
                    log.exception("observer %r failed", observer)

    async def prune_dead_letters(self) -> None:
        """Apply the dead-letter retention once: by age, then the total cap (counted in
        ``carehub_dead_letters_dropped``)."""
        before = self.clock() - self.dead_letter_days * 86_400
        pruned = await asyncio.to_thread(
            self.store.prune_dead_letters, before=before, keep=self.dead_letter_keep
        )
        if pruned.aged:
            self.metrics.dead_letters_dropped.labels("age").inc(pruned.aged)
        if pruned.capped:
            self.metrics.dead_letters_dropped.labels("cap").inc(pruned.capped)
            log.warning(
                "deleted %d dead letters over the cap of %d (a device sending garbage?)",
                pruned.capped,
                self.dead_letter_keep,
            )

    async def _prune_loop(self) -> None:
        await periodically(self.prune_every_s, self.prune_dead_letters, "dead-letter retention",
                           first_now=True)  # fmt: skip

    async def _refresh_loop(self) -> None:
        every = self.registry_refresh_s or 5.0
        await periodically(every, self.refresh_registry, "registry refresh")
