"""``carehub bridge``: MQTT broker → JetStream, stateless, several side by side.

Each bridge subscribes to the device topics through a shared subscription
(``$share/carehub-bridge/...``), so the broker spreads the devices' messages over the
bridges. For each message it finds the device and the message class from the topic and
checks the payload with the hub's own validation (:func:`hub.ingest.validate.decode`),
then publishes it to ``carehub.p.<partition>.<device>.<class>``
(:mod:`hub.cluster.partition`) with ``Nats-Msg-Id`` set from ``(device, ts, seq)``, so a
message the broker delivers twice (a bridge that died before its acknowledgement) is
dropped by JetStream's duplicate window. Only after JetStream's PubAck is the MQTT message
acknowledged: a bridge that dies in between leaves it with the broker, which sends it
again.

The bridge decides nothing: a message it cannot route to a device (a malformed topic) goes
to a partition chosen by its topic, a payload that does not validate travels without a
message id, and the worker that owns the partition refuses it as the single hub would (a
dead letter, a report on the device's errors topic). The partition key is the device's
resident, read from the registry every few seconds; the device itself when it has none.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from hub.backoff import periodically
from hub.cluster.envelope import MSG_ID, headers_for, message_id
from hub.cluster.partition import partition_of, subject
from hub.contract.topics import is_outbound, parse_topic
from hub.ingest.validate import Refusal, decode
from hub.store.base import Device

log = logging.getLogger(__name__)

SHARE_GROUP = "carehub-bridge"


class Publisher(Protocol):
    """JetStream as the bridge uses it (``nats.js.JetStreamContext``)."""

    async def publish(
        self, subject: str, payload: bytes = b"", timeout: float | None = None,  # noqa: ASYNC109 - nats-py's signature
        stream: str | None = None, headers: dict[str, Any] | None = None,
    ) -> Any: ...  # fmt: skip


class Inbox(Protocol):
    async def get_batch(self, max_items: int = 500) -> list[Any]: ...
    def ack(self, inbound: Any) -> Any: ...


def shared(subscriptions: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """The hub's subscriptions as shared ones of the bridges' group.

    >>> shared([("carehub/v1/devices/#", 1)])
    [('$share/carehub-bridge/carehub/v1/devices/#', 1)]
    """
    return [(f"$share/{SHARE_GROUP}/{topic}", qos) for topic, qos in subscriptions]


class Router:
    """Where one MQTT message goes in the stream, and under which duplicate key. Pure."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions
        self.keys: dict[str, str] = {}
        """device id → partition key (its resident)."""

    def set_devices(self, devices: Iterable[Device]) -> None:
        self.keys = {d.id: d.resident_id or d.id for d in devices}

    def key_of(self, device_id: str) -> str:
        return self.keys.get(device_id, device_id)

    def partition(self, device_id: str) -> int:
        return partition_of(self.key_of(device_id), self.partitions)

    def route(self, topic: str, payload: bytes, received_at: float) -> tuple[str, str | None]:
        """``(subject, message id or None)`` for a message received on ``topic``."""
        parsed = parse_topic(topic)
        if parsed is None:  # refused by the worker; spread by topic
            return subject(partition_of(topic, self.partitions), "_", "invalid"), None
        part = self.partition(parsed.device_id)
        subj = subject(part, parsed.device_id, parsed.msg_type)
        if parsed.msg_type not in ("telemetry", "event"):
            return subj, None  # status and replies carry no seq; ingest judges repeats
        msg = decode(parsed.msg_type, payload, now=received_at)
        if isinstance(msg, Refusal):
            return subj, None
        return subj, message_id(parsed.device_id, parsed.msg_type, msg.ts, msg.seq)


class Bridge:
    """Moves messages from ``inbox`` (the MQTT adapter) to JetStream until cancelled."""

    def __init__(
        self, inbox: Inbox, js: Publisher, router: Router, *,
        devices: Callable[[], list[Device]] | None = None, refresh_s: float = 5.0,
        publish_timeout_s: float = 5.0, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.inbox = inbox
        self.js = js
        self.router = router
        self.devices = devices
        self.refresh_s = refresh_s
        self.publish_timeout_s = publish_timeout_s
        self.clock = clock
        self.published = 0
        self.duplicates = 0
        self.failed = 0

    async def refresh(self) -> None:
        if self.devices is not None:
            self.router.set_devices(await asyncio.to_thread(self.devices))

    async def run(self) -> None:
        await self.refresh()
        refreshing = asyncio.create_task(self._refresh_loop(), name="bridge-registry")
        try:
            while True:
                batch = await self.inbox.get_batch(500)
                await self.forward(batch)
        finally:
            refreshing.cancel()

    async def forward(self, batch: list[Any]) -> None:
        """Publish ``batch`` (pipelined) and acknowledge each message whose PubAck came."""
        todo = []
        for msg in batch:
            if is_outbound(msg.topic):  # the hub's own cmd/errors echoed back
                self.inbox.ack(msg)
                continue
            todo.append(msg)
        results = await asyncio.gather(*(self._publish(m) for m in todo), return_exceptions=True)
        for msg, result in zip(todo, results, strict=True):
            if isinstance(result, BaseException):
                # not acknowledged: the broker delivers it again (to this or another bridge)
                self.failed += 1
                log.warning("JetStream did not take %s: %s", msg.topic, result)
                continue
            self.inbox.ack(msg)

    async def _publish(self, msg: Any) -> None:
        subj, msg_id = self.router.route(msg.topic, msg.payload, msg.received_at)
        headers = headers_for(
            msg.topic, qos=msg.qos, retain=msg.retain, received_at=msg.received_at
        )
        if msg_id is not None:
            headers[MSG_ID] = msg_id
        ack = await self.js.publish(
            subj, bytes(msg.payload), timeout=self.publish_timeout_s, headers=headers
        )
        if getattr(ack, "duplicate", False):
            self.duplicates += 1
        else:
            self.published += 1

    async def _refresh_loop(self) -> None:
        await periodically(self.refresh_s, self.refresh, "bridge registry refresh")
