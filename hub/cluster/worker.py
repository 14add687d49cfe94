"""``carehub worker``: the partitions a worker holds, each through the hub's own pipeline.

For every partition it claims (:mod:`hub.cluster.leases`) the worker

1. records the claim's epoch in the store (:meth:`FencingStore.claim_partition`): from now
   on a commit under an older epoch is refused;
2. takes over the partition's stream: it reads where the previous owner's acknowledgements
   stopped (the ack floor of its consumer), deletes that consumer and creates one of its
   own (``p<n>-e<epoch>``) from there, so what the previous owner fetched but never
   acknowledged comes to this worker at once, and the previous owner (if it is only
   paused) cannot fetch any more;
3. runs the partition live through a :class:`hub.runtime.pipeline.Pipeline` of its own (the
   hub's ingest, batching, poison-row handling) whose commits go through a fenced view of
   the store (:class:`FencedView`: the batch's epoch and last stream sequence in the same
   transaction), into the worker's one :class:`hub.runtime.detection_runner.DetectionRunner`
   (whose findings are written fenced too) through a :class:`hub.cluster.warmup.WarmUpGate`
   that holds the committed batches until step 4 is done;
4. rebuilds its devices' detector state: restores the partition's snapshot of the slow
   models (:mod:`hub.cluster.snapshots`), then replays the partition after it (or from
   ``now - warmup_s`` without one) up to that point through ingest and the detectors,
   discarding what they find (those findings were handled by the previous owner); then
   opens the gate.

A stream message is acknowledged only when it is committed *and* through detection (its
receive time is behind the detection runner's watermark), so a worker killed in between
leaves it to the next owner, which stores it again harmlessly (the store's unique keys) and
finds what the previous owner had not. When a partition is lost (the lease lapsed or was
taken), its pipeline is abandoned: nothing more is written or acknowledged for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from hub.backoff import periodically
from hub.cluster.bridge import Router
from hub.cluster.envelope import Delivered, delivered
from hub.cluster.leases import LeaseKeeper
from hub.cluster.partition import STREAM, partition_filter, partition_of
from hub.cluster.snapshots import Snapshots
from hub.cluster.warmup import WarmUpGate
from hub.detect.router import Detection
from hub.errors import CarehubError, Fenced
from hub.ingest.core import Accepted, Ingest, Pending
from hub.metrics import HubMetrics
from hub.runtime.detection_runner import DetectionRunner
from hub.runtime.pipeline import Observer, Pipeline
from hub.runtime.replay import WATERMARK
from hub.settings import HubSettings
from hub.store.base import Device, FencingStore, FindingRow, IngestBatch, Resident, Store
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

ACK_WAIT_S = 60.0
"""How long JetStream waits for a worker's acknowledgement before sending a message again
(to the same consumer; a new owner does not wait for it, see step 2 above)."""
FETCH = 500
REPLAY_BATCH = 250
"""Messages of a warm-up replay handled between two yields to the event loop: the replay is
CPU work on the loop that also runs the partitions' pipelines, and a failover is measured
by when those store again (``bench/scale.py``), not by when the replay ends."""
WARMING_AT_ONCE = 2
Publish = Callable[[str, bytes, int, bool, bool], Any]
"""(topic, payload, qos, retain, droppable): see :meth:`Worker.publish`."""


def resume_after(consumers: Sequence[Any]) -> int:
    """The stream sequence up to which the previous owners of a partition are done with it,
    from their consumers' info (``nats.js.api.ConsumerInfo``): the highest ack floor, where
    a consumer that acknowledged nothing yet (JetStream then reports a floor of 0) counts
    as done up to the sequence before its own start, which its owner took from the owner
    before. Without that, a claim whose owner died before its first acknowledgement sent
    the next claim back to the beginning of the stream."""
    done = 0
    for c in consumers:
        floor = int(c.ack_floor.stream_seq) if c.ack_floor is not None else 0
        begun = int(getattr(c.config, "opt_start_seq", None) or 1) - 1
        done = max(done, floor, begun)
    return done


class FencedView:
    """The store as one partition's pipeline commits to it: every ``write_batch`` carries the
    partition's epoch and the batch's last stream sequence (``fencing`` off: plain writes,
    only for the control run that shows what fencing prevents)."""

    def __init__(
        self, store: Store, partition: int, epoch: int, seq: int, *, fencing: bool,
        lost: Callable[[int, int], None],
    ) -> None:  # fmt: skip
        self._store = store
        self.partition, self.epoch, self.seq = partition, epoch, seq
        self.fencing = fencing
        self.lost = lost

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_batch(self, batch: IngestBatch) -> list[int]:
        if not self.fencing:
            return self._store.write_batch(batch)
        fencing: FencingStore = self._store  # type: ignore[assignment]
        try:
            return fencing.write_batch_fenced(batch, {self.partition: (self.epoch, self.seq)})
        except Fenced:
            self.lost(self.partition, self.epoch)
            raise


class DetectionView:
    """The store as the worker's detection runner sees it: only the devices and residents
    of the partitions held (so the detectors forget those of a partition given back), no
    global watermark (the stream is the replay), findings written fenced per partition."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker
        self._store = worker.store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def list_devices(self, *args: Any, **kwargs: Any) -> list[Device]:
        held = self._worker.held
        devices: list[Device] = self._store.list_devices(*args, **kwargs)
        return [d for d in devices if self._worker.router.partition(d.id) in held]

    def list_residents(self, *args: Any, **kwargs: Any) -> list[Resident]:
        # a resident is its devices' partition key: theirs are in the same partition
        held, parts = self._worker.held, self._worker.settings.partitions
        residents: list[Resident] = self._store.list_residents(*args, **kwargs)
        return [r for r in residents if partition_of(r.id, parts) in held]

    def get_progress(self, name: str) -> float | None:
        return None if name == WATERMARK else self._store.get_progress(name)

    def set_progress(self, name: str, value: float) -> None:
        if name != WATERMARK:
            self._store.set_progress(name, value)

    def write_findings(self, rows: Sequence[FindingRow]) -> list[int | None]:
        w = self._worker
        if not w.settings.fencing:
            return list(self._store.write_findings(rows))
        fencing: FencingStore = self._store  # type: ignore[assignment]
        by_part: dict[int, list[int]] = {}
        for i, row in enumerate(rows):
            by_part.setdefault(w.router.partition(row.device_id), []).append(i)
        ids: list[int | None] = [None] * len(rows)
        for part, idx in sorted(by_part.items()):
            epoch = w.held.get(part)
            if epoch is None:
                continue  # not ours (any more): the owner finds it
            try:
                got = fencing.write_findings_fenced([rows[i] for i in idx], {part: (epoch, 0)})
            except Fenced:
                w.lost_threadsafe(part, epoch)
                continue
            for i, found in zip(idx, got, strict=True):
                ids[i] = found
        return ids


class PartitionSource:
    """One partition's stream messages as a :class:`hub.runtime.pipeline.Source`."""

    def __init__(self, worker: Worker, partition: int, epoch: int) -> None:
        self.worker = worker
        self.partition = partition
        self.epoch = epoch
        self.queue: asyncio.Queue[Delivered] = asyncio.Queue()
        self._oldest: list[float] = []

    async def get_batch(self, max_items: int = 500) -> list[Delivered]:
        items = [await self.queue.get()]
        while len(items) < max_items and not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    def oldest_waiting(self) -> float | None:
        q: Any = self.queue
        return q._queue[0].received_at if q.qsize() else None

    def ack(self, inbound: Delivered) -> None:
        self.worker.defer_ack(inbound)

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, *,
        droppable: bool = False,
    ) -> Any:  # fmt: skip
        return self.worker.publish(topic, payload, qos, retain, droppable=droppable)


class PartitionRun:
    """A claimed partition: its consumer, its fetch task and its pipeline."""

    def __init__(
        self, partition: int, epoch: int, source: PartitionSource, pipeline: Pipeline,
        gate: WarmUpGate,
    ) -> None:  # fmt: skip
        self.partition = partition
        self.epoch = epoch
        self.source = source
        self.pipeline = pipeline
        self.gate = gate
        self.fetching: asyncio.Task[None] | None = None
        self.warming: asyncio.Task[None] | None = None
        self.sub: Any = None
        self.live_at: float | None = None
        """Storing since (monotonic)."""
        self.detecting_at: float | None = None
        """Its detector state rebuilt, detecting since (monotonic)."""

    def horizon(self) -> float:
        return min(self.pipeline.horizon(), self.gate.oldest())


class Worker:
    """See the module docstring. ``observers`` see every committed batch of every
    partition; ``on_claim``/``on_lose`` hooks run after a partition went live / was
    dropped (the composition root wires the alert engine to them)."""

    def __init__(
        self, store: Store, settings: HubSettings, *, worker_id: str,
        publish: Publish | None = None, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.store = store
        self.settings = settings
        self.worker_id = worker_id
        self.clock = clock
        self._publish = publish
        self.router = Router(settings.partitions)
        self.metrics = HubMetrics()
        self.held: dict[int, int] = {}
        """partition → epoch, as far as this worker's event loop knows."""
        self.runs: dict[int, PartitionRun] = {}
        self.observers: list[Observer] = []
        self.on_claim: list[Callable[[int], Awaitable[None]]] = []
        self.on_lose: list[Callable[[int], Awaitable[None]]] = []
        self.detection = DetectionRunner(
            DetectionView(self),  # type: ignore[arg-type]
            Detection(clock=clock, timezone=settings.default_timezone),
            self.metrics,
            clock=clock,
            tick_s=settings.detect_tick_s,
            registry_refresh_s=settings.registry_refresh_s,
            upstream=self.horizon,
            warmup_s=0.0,  # warm-up comes from the stream, per partition
        )
        self.keeper = LeaseKeeper(
            settings.nats_url, worker_id, settings.partitions, settings.lease_ttl_s,
            on_claim=self._from_keeper("claim"), on_lose=self._from_keeper("lose"),
        )  # fmt: skip
        self.snapshots = Snapshots(self)
        self.replayed: dict[int, int] = {}
        """partition → messages replayed into the detectors at its last claim."""
        self.failovers: list[tuple[int, float]] = []
        """(partition, seconds from claim to live) for each claim."""
        self.warmups: list[tuple[int, float]] = []
        """(partition, seconds from claim to detecting) for each claim."""
        self._deferred: list[Delivered] = []
        self._commands: asyncio.Queue[tuple[str, int, int]] = asyncio.Queue()
        self._warming = asyncio.Semaphore(WARMING_AT_ONCE)
        self._refreshing = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._nc: Any = None
        self._js: Any = None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        from hub.cluster.jetstream import connect, ensure_stream

        self._loop = asyncio.get_running_loop()
        self._nc = await connect(self.settings.nats_url, name=f"carehub-{self.worker_id}")
        self._js = self._nc.jetstream()
        await ensure_stream(self._js, max_age_s=self.settings.stream_max_age_s)
        await self._refresh_registry()
        await self.detection.start()
        self._tasks = [
            asyncio.create_task(self._command_loop(), name="worker-commands"),
            asyncio.create_task(self._ack_loop(), name="worker-acks"),
            asyncio.create_task(self._registry_loop(), name="worker-registry"),
        ]
        if self.settings.snapshot_s > 0:
            self._tasks.append(asyncio.create_task(self.snapshots.run(), name="snapshots"))
        await asyncio.to_thread(self.keeper.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self.keeper.stop, release=True)
        for part in list(self.runs):
            await self._drop(part)
        await cancel_and_wait(*self._tasks)
        await self.detection.stop()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def _refresh_detection(self) -> None:
        """The detectors' registry for the partitions held now. One at a time: claims run
        side by side, and a read made before another claim must not be applied after it."""
        async with self._refreshing:
            await self.detection.refresh_registry()

    def horizon(self) -> float:
        """Receive time of the oldest message of any partition not yet seen by detection."""
        return min((r.horizon() for r in self.runs.values()), default=math.inf)

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False, *,
        droppable: bool = False,
    ) -> Any:  # fmt: skip
        """``droppable``: an error report, which may be dropped when the outgoing queue is
        full (commands to devices never are; see :meth:`hub.mqtt.adapter.MqttAdapter.publish`)."""
        if self._publish is None:
            log.debug("no MQTT publisher: %s not sent", topic)
            return None
        return self._publish(topic, payload, qos, retain, droppable)

    # --- leases (reported from the keeper's thread) ---------------------------------------

    def _from_keeper(self, what: str) -> Callable[[int, int], None]:
        def report(partition: int, epoch: int) -> None:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._commands.put_nowait, (what, partition, epoch))

        return report

    def lost_threadsafe(self, partition: int, epoch: int) -> None:
        """The store refused a commit for ``partition`` under ``epoch`` (from any thread)."""
        self._from_keeper("lose")(partition, epoch)

    async def _command_loop(self) -> None:
        while True:
            batch = [await self._commands.get()]
            while not self._commands.empty():
                batch.append(self._commands.get_nowait())
            # losses first, one by one; then the claims of the round side by side (a worker
            # taking over a dead one's share has them all live in about the time of one)
            for what, part, epoch in batch:
                if what == "lose" and self.held.get(part) == epoch:
                    await self._guarded(self._drop(part), part, what)
            claims = [(p, e) for what, p, e in batch if what == "claim"]
            await asyncio.gather(*(self._guarded(self._claim(p, e), p, "claim") for p, e in claims))

    async def _guarded(self, step: Awaitable[None], part: int, what: str) -> None:
        try:
            await step
        except Exception:
            log.exception("partition %d: %s failed", part, what)
            with contextlib.suppress(Exception):
                await self._drop(part)

    async def _claim(self, part: int, epoch: int) -> None:
        started = time.monotonic()
        if part in self.runs:
            await self._drop(part)
        fencing: FencingStore = self.store  # type: ignore[assignment]
        now = self.clock()
        if not await asyncio.to_thread(fencing.claim_partition, part, epoch, self.worker_id, now):
            log.warning("partition %d: epoch %d is stale in the store; not taken", part, epoch)
            return
        self.held[part] = epoch
        await self._refresh_detection()
        start = await self._take_consumer(part, epoch)
        source = PartitionSource(self, part, epoch)
        pipeline = Pipeline(
            self.store, source, Ingest(metrics=self.metrics, clock=self.clock),
            metrics=self.metrics, max_rows=self.settings.batch_max_rows,
            max_delay_s=self.settings.batch_max_delay_s, registry_refresh_s=3600.0,
            recent_seq_s=0.0, clock=self.clock,
        )  # fmt: skip
        pipeline.store_for = lambda pending: self._view(part, epoch, pending)
        gate = WarmUpGate(self.detection.observe)  # stores now, detects once warmed up
        pipeline.observers.append(gate)
        pipeline.observers.extend(self.observers)
        await pipeline.start()
        run = PartitionRun(part, epoch, source, pipeline, gate)
        run.sub = await self._js.pull_subscribe_bind(
            durable=f"p{part}-e{epoch}", stream=STREAM, pending_msgs_limit=FETCH * 4
        )
        run.fetching = asyncio.create_task(self._fetch(run), name=f"fetch-p{part}")
        self.runs[part] = run
        run.live_at = time.monotonic()
        self.failovers.append((part, run.live_at - started))
        log.info("partition %d live (epoch %d, from stream seq %d) %.2f s after its claim",
                 part, epoch, start, run.live_at - started)  # fmt: skip
        # not awaited: the other claims of the round go live meanwhile
        run.warming = asyncio.create_task(self._warm(run, start, started), name=f"warm-p{part}")

    async def _warm(self, run: PartitionRun, start: int, started: float) -> None:
        """Rebuild the partition's detector state, then let its batches through the gate."""
        part, gate = run.partition, run.gate
        try:
            async with self._warming:
                await self._warm_up(part, start)
        except asyncio.CancelledError:
            raise
        except Exception:
            if self.runs.get(part) is not run:
                return  # lost (or the worker stopped) while warming up
            log.exception("partition %d: warm-up failed; detecting without it", part)
        if self.runs.get(part) is not run:
            return  # lost while warming up
        held = gate.held
        gate.open()
        run.detecting_at = time.monotonic()
        self.warmups.append((part, run.detecting_at - started))
        log.info("partition %d detecting %.2f s after its claim (%d batches held meanwhile)",
                 part, run.detecting_at - started, held)  # fmt: skip
        for hook in self.on_claim:
            try:
                await hook(part)
            except Exception:
                log.exception("partition %d: a claim hook failed", part)

    async def _drop(self, part: int) -> None:
        self.held.pop(part, None)
        run = self.runs.pop(part, None)
        if run is None:
            return
        for task in (run.warming, run.fetching):
            if task is not asyncio.current_task():
                await cancel_and_wait(task)
        await run.pipeline.abandon()
        with contextlib.suppress(Exception):
            await run.sub.unsubscribe()
        self._deferred = [d for d in self._deferred if d.partition != part]
        self.snapshots.forget(part)
        log.info("partition %d dropped", part)
        with contextlib.suppress(CarehubError):
            await self._refresh_detection()
        for hook in self.on_lose:
            await hook(part)

    def _view(self, part: int, epoch: int, pending: Pending) -> Store:
        seq = max(
            (d.stream_seq for d in (*pending.acks, *pending.telemetry_acks)
             if isinstance(d, Delivered)),
            default=0,
        )  # fmt: skip
        view = FencedView(
            self.store, part, epoch, seq, fencing=self.settings.fencing,
            lost=self.lost_threadsafe,
        )  # fmt: skip
        return view

    # --- the stream ----------------------------------------------------------------------

    async def _take_consumer(self, part: int, epoch: int) -> int:
        """Create the partition's consumer for this claim (``p<n>-e<epoch>``) from the
        previous owner's ack floor, and delete the previous owners' consumers (a paused
        previous owner can fetch nothing more); the stream sequence it starts at."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        prefix = f"p{part}-e"
        old = [c for c in await self._js.consumers_info(STREAM) if c.name.startswith(prefix)]
        if old:
            start = resume_after(old) + 1
        else:  # the first claim: the store's record, else the beginning of the stream
            fencing: FencingStore = self.store  # type: ignore[assignment]
            fences = await asyncio.to_thread(fencing.partition_fences)
            start = fences[part][2] + 1 if part in fences and fences[part][2] > 0 else 1
        for c in old:
            with contextlib.suppress(Exception):  # deleted by a third worker meanwhile
                await self._js.delete_consumer(STREAM, c.name)
        config = ConsumerConfig(
            durable_name=f"{prefix}{epoch}", filter_subject=partition_filter(part),
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
            ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT_S, max_ack_pending=20_000,
            max_deliver=-1,
        )  # fmt: skip
        await self._js.add_consumer(STREAM, config)
        return start

    async def _warm_up(self, part: int, start: int) -> None:
        """Detector state of the partition's devices from the messages before ``start``
        received in the last ``detect_warmup_s``; their findings are discarded.

        Read in batches of :data:`REPLAY_BATCH` through an ephemeral pull consumer that
        needs no acknowledgements (message by message through an ordered push consumer it
        was the larger part of a failover), yielding to the event loop between batches,
        at most :data:`WARMING_AT_ONCE` partitions at a time."""
        from datetime import UTC, datetime

        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        self.replayed[part] = 0
        if start <= 1:
            return
        snap = await self.snapshots.restore(part, start)
        after = snap.stream_seq if snap is not None else 0
        if self.settings.detect_warmup_s <= 0:
            return
        began = time.monotonic()
        # the stream keeps wall-clock times, the hub's clock may run faster (the drills'
        # accelerated clock): read from the wall-clock bound, keep what the hub's bound says
        horizon = self.clock() - self.settings.detect_warmup_s
        wall = time.time() - self.settings.detect_warmup_s
        if snap is not None and snap.taken_at > wall:  # the tail after the snapshot only
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after + 1,
                ack_policy=AckPolicy.NONE, inactive_threshold=30.0, mem_storage=True,
            )  # fmt: skip
        else:  # the horizon
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_TIME,
                opt_start_time=datetime.fromtimestamp(wall, UTC),
                ack_policy=AckPolicy.NONE, inactive_threshold=30.0, mem_storage=True,
            )  # fmt: skip
        sub = await self._js.pull_subscribe(partition_filter(part), stream=STREAM, config=config)
        scratch = Ingest(clock=self.clock)
        scratch.set_devices(await asyncio.to_thread(self.store.list_devices))
        seen = 0
        try:
            done = False
            while not done:
                try:
                    msgs = await sub.fetch(REPLAY_BATCH, timeout=1.0)
                except Exception:  # nothing more (a timeout)
                    break
                for msg in msgs:
                    meta = msg.metadata
                    seq = meta.sequence.stream
                    if seq >= start:
                        done = True
                        break
                    d = delivered(msg.headers, msg.data, partition=part, stream_seq=seq, epoch=0)
                    if d is not None and d.received_at >= horizon and seq > after:
                        scratch.handle(replace(d, qos=1))
                        seen += 1
                    if meta.num_pending == 0:
                        done = True
                await asyncio.sleep(0)  # the pipelines of the partitions already live
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        read = time.monotonic() - began
        accepted: list[Accepted] = scratch.take().accepted
        for i in range(0, len(accepted), REPLAY_BATCH):  # state only: findings discarded
            self.detection.detection.observe(accepted[i : i + REPLAY_BATCH])
            await asyncio.sleep(0)
        self.replayed[part] = seen
        took = time.monotonic() - began
        log.info("partition %d: %d messages replayed for detector state (read %.2f s, "
                 "detectors %.2f s)", part, seen, read, took - read)  # fmt: skip

    async def _fetch(self, run: PartitionRun) -> None:
        from nats.errors import TimeoutError as NatsTimeout

        while True:
            try:
                msgs = await run.sub.fetch(FETCH, timeout=1.0)
            except (NatsTimeout, TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the consumer was taken over, NATS reconnecting...
                log.warning("partition %d: fetch failed: %s", run.partition, exc)
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                meta = msg.metadata
                d = delivered(
                    msg.headers, msg.data, partition=run.partition,
                    stream_seq=meta.sequence.stream, epoch=run.epoch,
                    redelivered=meta.num_delivered > 1, handle=msg,
                )  # fmt: skip
                if d is None:
                    await msg.term()  # not a message of ours: never again
                    continue
                # every stream message is acknowledged once stored, whatever its MQTT QoS
                run.source.queue.put_nowait(replace(d, qos=1))

    # --- acknowledgements ----------------------------------------------------------------

    def defer_ack(self, inbound: Delivered) -> None:
        self._deferred.append(inbound)

    async def _ack_loop(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if not self._deferred:
                continue
            mark = self.detection.watermark()
            keep: list[Delivered] = []
            due: list[Delivered] = []
            for d in self._deferred:
                (due if d.received_at < mark else keep).append(d)
            self._deferred = keep
            for d in due:
                if self.held.get(d.partition) != d.epoch or d.handle is None:
                    continue  # the partition moved on: the next owner has it
                with contextlib.suppress(Exception):
                    await d.handle.ack()
                    self.snapshots.acked(d.partition, d.stream_seq)

    async def _refresh_registry(self) -> None:
        devices = await asyncio.to_thread(self.store.list_devices)
        self.router.set_devices(devices)
        for run in self.runs.values():
            run.pipeline.ingest.set_devices(devices)

    async def _registry_loop(self) -> None:
        every = self.settings.registry_refresh_s
        await periodically(every, self._refresh_registry, "worker registry refresh")
