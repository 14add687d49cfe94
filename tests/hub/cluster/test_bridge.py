"""The bridge's routing (pure) and its acknowledgement rule (after the PubAck only)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub.cluster.bridge import Bridge, Router
from hub.cluster.envelope import MSG_ID, TOPIC, delivered
from hub.cluster.partition import partition_of
from hub.store.base import Device


def test_a_resident_s_devices_share_a_partition_and_resends_share_a_message_id() -> None:
    router = Router(64)
    router.set_devices([Device("w-1", "wearable", resident_id="r-7"),
                        Device("door.1", "door", resident_id="r-7")])  # fmt: skip
    event = json.dumps({"ts": 1700000000.5, "seq": 3, "type": "sos"}).encode()
    subj, msg_id = router.route("carehub/v1/devices/w-1/event", event, 1700000001.0)
    part = partition_of("r-7", 64)
    assert subj == f"carehub.p.{part}.w-1.event"
    assert msg_id == "w-1:event:1700000000.5:3"
    door, _ = router.route("carehub/v1/gateways/gw/devices/door.1/status", b"{}", 1.0)
    assert door == f"carehub.p.{part}.door%2E1.status"
    # not routable to a device, or not valid: forwarded without an id, refused downstream
    bad, none = router.route("carehub/v1/nonsense", b"x", 1.0)
    assert bad.endswith("._.invalid") and none is None
    assert router.route("carehub/v1/devices/w-1/event", b"{", 1.0)[1] is None


@dataclass
class Inbound:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    received_at: float = 1_700_000_000.5


@dataclass
class FakeInbox:
    acked: list[Any] = field(default_factory=list)

    async def get_batch(self, max_items: int = 500) -> list[Any]:
        raise AssertionError("not used")

    def ack(self, inbound: Any) -> None:
        self.acked.append(inbound)


@dataclass
class Ack:
    duplicate: bool = False


class FlakyJetStream:
    """Refuses the subject of device w-2."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(
        self, subject: str, payload: bytes = b"", timeout: float | None = None,  # noqa: ASYNC109
        stream: str | None = None, headers: dict[str, Any] | None = None,
    ) -> Ack:  # fmt: skip
        if ".w-2." in subject:
            raise TimeoutError("no PubAck")
        self.published.append((subject, headers or {}))
        return Ack()


async def test_only_what_jetstream_took_is_acknowledged() -> None:
    inbox, js = FakeInbox(), FlakyJetStream()
    bridge = Bridge(inbox, js, Router(8))
    sos = json.dumps({"ts": 1_700_000_000.0, "seq": 1, "type": "sos"}).encode()
    ok = Inbound("carehub/v1/devices/w-1/event", sos)
    refused = Inbound("carehub/v1/devices/w-2/event", sos)
    echo = Inbound("carehub/v1/devices/w-1/errors", b"{}")
    await bridge.forward([ok, refused, echo])
    assert inbox.acked == [echo, ok]  # the echo at once; w-2's left with the broker
    assert bridge.failed == 1
    [(subject, headers)] = js.published
    assert subject.endswith(".w-1.event")
    assert headers[MSG_ID] == "w-1:event:1700000000.0:1"
    d = delivered(headers, sos, partition=1, stream_seq=9, epoch=3)
    assert d is not None
    assert (d.topic, d.received_at, d.qos) == (ok.topic, 1_700_000_000.5, 1)
    assert headers[TOPIC] == ok.topic
