"""Partition leases in a JetStream key-value bucket, kept by a thread of their own.

Each worker writes a heartbeat ``w.<worker>`` and claims partitions by *creating*
``p.<n>`` (which fails when another worker holds it); the revision of that create is the
claim's **epoch**, larger than any earlier claim's (revisions only grow). The claim is
renewed by compare-and-set on the revision it last wrote; the bucket's TTL lets a claim
that is not renewed lapse, and the partition is free for the next worker.

Even distribution: every round a worker counts the live heartbeats (n) and aims for
``ceil(partitions / n)`` partitions; it claims free ones (in an order of its own, so
workers do not all race for the same) while it holds fewer, and gives back the surplus when
a worker joined and it holds more.

The keeper runs in its own thread with its own event loop and NATS connection, so a
worker busy with detection (or a long commit) does not miss its renewals. It also trusts
only its own clock: when its last successful renewal of a partition is older than
``ttl_s * safety``, it reports the partition lost before asking anything (a process that
was paused past its lease learns it at once). Claims and losses are reported through the
callbacks, from the keeper's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from hub.cluster.jetstream import connect, lease_bucket
from hub.cluster.partition import fnv1a32

log = logging.getLogger(__name__)

Report = Callable[[int, int], None]
"""``(partition, epoch)``."""


def fair_share(partitions: int, workers: int) -> int:
    """How many partitions a worker aims to hold.

    >>> fair_share(64, 3), fair_share(64, 2), fair_share(64, 0)
    (22, 32, 64)
    """
    return math.ceil(partitions / max(1, workers))


def preference(worker_id: str, partitions: int) -> list[int]:
    """The order in which ``worker_id`` tries free partitions (its own, so that several
    workers starting at once seldom race for the same one)."""
    return sorted(range(partitions), key=lambda p: fnv1a32(f"{worker_id}/{p}".encode()))


class LeaseKeeper:
    """See the module docstring. :meth:`start` and :meth:`stop` from any thread."""

    def __init__(
        self, url: str, worker_id: str, partitions: int, ttl_s: float, *,
        on_claim: Report, on_lose: Report, safety: float = 0.8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.url = url
        self.worker_id = worker_id
        self.partitions = partitions
        self.ttl_s = ttl_s
        self.renew_s = ttl_s / 4
        self.on_claim = on_claim
        self.on_lose = on_lose
        self.safety = safety
        self.clock = clock
        self.held: dict[int, tuple[int, int, float]] = {}
        """partition → (epoch, last revision written, when it was written): the keeper's."""
        self._order = preference(worker_id, partitions)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.rounds = 0
        self.renewed_at: float | None = None
        """When the last round went through (the keeper's clock)."""

    def start(self, timeout: float = 15.0) -> None:
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError("the lease keeper did not connect to NATS in time")
        if self._error is not None:
            raise self._error

    def healthy(self) -> bool:
        """The keeper's thread runs and its last round went through within the TTL."""
        alive = self._thread is not None and self._thread.is_alive()
        at = self.renewed_at
        return alive and at is not None and self.clock() - at < self.ttl_s

    def stop(self, *, release: bool = True, timeout: float = 10.0) -> None:
        """Stop renewing; with ``release``, delete the claims so others take them at once."""
        self._release_on_stop = release
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._release_on_stop = True
        try:
            nc = await connect(self.url, name=f"carehub-leases-{self.worker_id}")
            kv = await lease_bucket(nc.jetstream(), self.ttl_s)
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._started.set()
        try:
            while not self._stop.is_set():
                try:
                    await self._round(kv)
                except Exception as exc:  # NATS away: the local deadline still applies
                    log.warning("lease round failed: %s", exc)
                    self._expire_local()
                else:
                    self.renewed_at = self.clock()
                self.rounds += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.renew_s)
            if self._release_on_stop:
                for p in sorted(self.held):
                    await self._give_back(kv, p)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    def _expire_local(self) -> None:
        now = self.clock()
        for p, (epoch, _rev, at) in list(self.held.items()):
            if now - at > self.ttl_s * self.safety:
                del self.held[p]
                log.warning("partition %d: lease not renewed in time; given up", p)
                self.on_lose(p, epoch)

    async def _round(self, kv: Any) -> None:
        from nats.js.errors import KeyWrongLastSequenceError, NoKeysError

        self._expire_local()  # first: a process paused past its lease learns it here
        await kv.put(f"w.{self.worker_id}", b"1")
        for p, (epoch, rev, _at) in list(self.held.items()):
            try:
                new_rev = await kv.update(f"p.{p}", self.worker_id.encode(), last=rev)
            except KeyWrongLastSequenceError:
                del self.held[p]
                log.warning("partition %d: claimed by another worker", p)
                self.on_lose(p, epoch)
                continue
            self.held[p] = (epoch, new_rev, self.clock())
        try:
            keys = await kv.keys()
        except NoKeysError:
            keys = []
        workers = sum(1 for k in keys if k.startswith("w."))
        taken = {int(k[2:]) for k in keys if k.startswith("p.")}
        share = fair_share(self.partitions, workers)
        for p in self._order:
            if len(self.held) >= share:
                break
            if p in taken or p in self.held:
                continue
            try:
                rev = await kv.create(f"p.{p}", self.worker_id.encode())
            except KeyWrongLastSequenceError:
                continue  # someone was faster
            self.held[p] = (rev, rev, self.clock())
            log.info("partition %d claimed (epoch %d; %d live workers)", p, rev, workers)
            self.on_claim(p, rev)
        surplus = len(self.held) - share
        if surplus > 0:  # a worker joined: give back the partitions we prefer least
            mine = [p for p in reversed(self._order) if p in self.held][:surplus]
            for p in mine:
                await self._give_back(kv, p)

    async def _give_back(self, kv: Any, p: int) -> None:
        epoch, rev, _at = self.held.pop(p)
        self.on_lose(p, epoch)
        with contextlib.suppress(Exception):  # lapses by itself anyway
            await kv.delete(f"p.{p}", last=rev)
