"""Messages on their way from the broker to the hub: :class:`Inbound` and the bounded queue.

The MQTT adapter (:mod:`hub.mqtt.adapter`) puts each received message here from inside paho's read
callback, in the event loop's thread; the ingest pipeline takes them with :meth:`Inbox.get`
or :meth:`Inbox.get_batch`. The queue is bounded and putting never waits: when it is full
the message is dropped, counted and reported, so the network side never blocks. A dropped
QoS 1 message that the adapter has not acknowledged is remembered, so that the adapter can
have the broker redeliver it once the consumer has caught up.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.errors import BrokerError

log = logging.getLogger(__name__)

DROP_LOG_INTERVAL = 10.0  # seconds between two "queue full" warnings
RESYNC_POLL = 0.5  # seconds between checks whether dropped QoS 1 messages can be refetched


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message received from the broker.

    ``mid`` is the packet id (0 for QoS 0) that :meth:`hub.mqtt.adapter.MqttAdapter.ack` needs;
    ``dup`` is set when the broker redelivers; ``session_epoch`` tells ``ack`` whether the
    message belongs to the current broker session (an ack for a discarded session is
    skipped).
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received_at: float
    mid: int
    dup: bool = False
    session_epoch: int = 0


class _Queue(asyncio.Queue[Inbound]):
    """An :class:`asyncio.Queue` that can show its oldest message (through ``_init``, the
    storage hook that the standard library's own queues override)."""

    def _init(self, maxsize: int) -> None:
        self._items: collections.deque[Inbound] = collections.deque()
        self._queue = self._items  # the deque asyncio.Queue's own _put and _get use

    def oldest(self) -> Inbound | None:
        return self._items[0] if self._items else None


def run_hook(hook: Callable[[Any], None], arg: object) -> None:
    """Call a user hook; its failure is logged, never raised into the event loop."""
    try:
        hook(arg)
    except Exception:
        log.exception("MQTT adapter hook %r failed", hook)


class Inbox:
    """A bounded queue of :class:`Inbound` that drops and counts instead of waiting.

    ``resync`` is called, repeatedly while it has not helped, when the consumer waits on
    an empty queue and unacknowledged drops are outstanding (see
    :meth:`take_unacked_drops`). ``hooks`` are called with the number of new drops, once
    per burst, in the event loop.
    """

    def __init__(self, size: int, resync: Callable[[], None]) -> None:
        self.size = size
        self.resync = resync
        self.hooks: list[Callable[[int], None]] = []
        self.queue: _Queue | None = None
        self.dropped = 0
        self.unacked_drops = 0
        self._reported = 0
        self._report_due = False
        self._last_log = 0.0

    def open(self) -> None:
        """Start with an empty queue (in the event loop that will use it)."""
        self.queue = _Queue(maxsize=self.size)

    @property
    def depth(self) -> int:
        """Messages waiting for the consumer."""
        return self.queue.qsize() if self.queue is not None else 0

    def oldest_waiting(self) -> float | None:
        """Receive time of the oldest message waiting for the consumer, if any."""
        item = self.queue.oldest() if self.queue is not None else None
        return item.received_at if item is not None else None

    def put(self, item: Inbound, *, acked: bool) -> None:
        """Queue ``item``, or drop and count it when the queue is full; never waits.

        ``acked`` says whether the broker already considers the message delivered (QoS 0,
        or acknowledged on receipt); an unacknowledged drop can be refetched later.
        """
        assert self.queue is not None, "Inbox.open() first"
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            if not acked:
                self.unacked_drops += 1
            if not self._report_due:
                self._report_due = True  # one report per burst, after the read pass
                asyncio.get_running_loop().call_soon(self._report_drops)

    def take_unacked_drops(self) -> int:
        """How many unacknowledged messages were dropped since the last call."""
        lost, self.unacked_drops = self.unacked_drops, 0
        return lost

    async def get(self) -> Inbound:
        """Wait for the next message."""
        queue = self.queue
        if queue is None:
            raise BrokerError("MQTT adapter not started")
        while queue.empty() and self.unacked_drops:
            # Caught up with drops outstanding: have them redelivered. Poll, because the
            # resync may not be possible yet (e.g. while a connect is in progress).
            self.resync()
            try:
                async with asyncio.timeout(RESYNC_POLL):
                    return await queue.get()
            except TimeoutError:
                continue
        return await queue.get()

    async def get_batch(self, max_items: int = 500) -> list[Inbound]:
        """Wait for at least one message, then take what is queued, up to ``max_items``."""
        batch = [await self.get()]
        queue = self.queue
        assert queue is not None
        while len(batch) < max_items and not queue.empty():
            batch.append(queue.get_nowait())
        return batch

    def _report_drops(self) -> None:
        self._report_due = False
        new_drops = self.dropped - self._reported
        if not new_drops:
            return
        self._reported += new_drops
        now = time.monotonic()
        if now - self._last_log >= DROP_LOG_INTERVAL:
            self._last_log = now
            log.warning("MQTT queue full (%d): %d messages dropped so far", self.size, self.dropped)
        for hook in self.hooks:
            run_hook(hook, new_drops)


__all__ = ["Inbound", "Inbox", "run_hook"]
