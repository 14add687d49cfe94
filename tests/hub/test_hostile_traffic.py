"""Hostile traffic through a real broker: the hub refuses it with reasons and keeps
serving a well-behaved device during and after."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from carehub.serve import Hub
from hub.contract import limits
from hub.registry.provisioning import provision_device
from hub.store.base import DEAD_LETTER_KEEP_BYTES, Device, Store
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.waiting import eventually
from tests.helpers.hubs import running_hub

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

HOSTILE: list[tuple[str, bytes, str]] = [
    ("carehub/v1/devices/w-1/telemetry", b"x" * (200 << 10), "payload_too_large"),
    ("carehub/v1/devices/w-1/telemetry", b'{"ts": 1767225600, "seq"', "json_invalid"),
    ("carehub/v1/devices/w-1/telemetry", b"\xff\xfe\xfd", "encoding_invalid"),
    ("carehub/v1/devices/w-1/telemetry", b'{"a":' * 5000 + b"1" + b"}" * 5000, "json_invalid"),
    ("carehub/v1/devices/w-1/telemetry", b'{"ts": 1767225600, "seq": 1, "hr": NaN}',
     "json_invalid"),
    ("carehub/v1/devices/w-1/telemetry", b'{"ts": 1767225600, "seq": 2, "hr": 1e308}',
     "value_implausible"),
    ("carehub/v1/devices/w-1/event", b'{"ts": 1767225600, "seq": 3, "type": "party"}',
     "schema_invalid"),
    ("carehub/v1/devices/w-1/status", b'{"state": 1}', "schema_invalid"),
    ("carehub/v1/devices/w-1/weather", b"{}", "topic_invalid"),
    ("carehub/v1/devices/nobody/telemetry", b"{}", "unknown_device"),
]  # fmt: skip


@pytest.fixture
async def hub(store: Store, broker: Any) -> AsyncIterator[Hub]:
    provision_device(store, Device("w-1", "wearable"))
    provision_device(store, Device("good-1", "wearable"))
    async with running_hub(store, broker.url) as h:
        yield h


async def test_hostile_traffic_is_refused_and_a_good_device_keeps_being_served(
    hub: Hub, store: Store, broker: Any
) -> None:
    with MqttTestClient(broker.url) as attacker, MqttTestClient(broker.url) as good:
        seq = 0
        for _ in range(2):
            for topic, payload, _code in HOSTILE:
                attacker.publish(topic, payload, 1)
                seq += 1
                body = {"ts": time.time(), "seq": seq, "hr": 60 + seq % 30}
                good.publish("carehub/v1/devices/good-1/telemetry", json.dumps(body).encode(), 1)
        await eventually("every good reading stored", lambda: len(store.telemetry("good-1")) == seq)
        expected: dict[str, int] = {}
        for _topic, _payload, code in HOSTILE:
            expected[code] = expected.get(code, 0) + 2
        # a refusal that comes in floods keeps one dead letter per report (5 s apart)
        expected["unknown_device"] = expected["topic_invalid"] = 1
        counts = await eventually(
            "every hostile message dead-lettered",
            lambda: (c := store.count_dead_letters()) == expected and c,
        )
        assert counts == expected
    [big] = store.dead_letters(code="payload_too_large", limit=1)
    assert len(big.payload) == DEAD_LETTER_KEEP_BYTES  # a prefix, for the vendor to inspect
    assert big.size == 200 << 10 and big.sha256 is not None
    assert hub.adapter.stats()["connected"]


async def test_a_packet_over_the_brokers_limit_never_reaches_the_hub(
    hub: Hub, store: Store, broker: Any
) -> None:
    with MqttTestClient(broker.url) as attacker, MqttTestClient(broker.url) as good:
        huge = b"x" * (limits.MAX_PACKET_BYTES + 1)
        attacker._client.publish("carehub/v1/devices/w-1/telemetry", huge, qos=0)
        await eventually("the broker closed the attacker's connection",
                         lambda: not attacker._client.is_connected())  # fmt: skip
        body = {"ts": time.time(), "seq": 1, "hr": 70}
        good.publish("carehub/v1/devices/good-1/telemetry", json.dumps(body).encode(), 1)
        await eventually("the good reading stored", lambda: len(store.telemetry("good-1")) == 1)
    assert store.count_dead_letters() == {}
    assert hub.adapter.stats()["connected"] and hub.adapter.stats()["received"] == 1


async def test_retained_garbage_is_kept_once_and_an_empty_payload_deletes_it(
    hub: Hub, store: Store, broker: Any
) -> None:
    topic = "carehub/v1/devices/w-1/status"
    with MqttTestClient(broker.url) as device:
        device.publish(topic, b'{"state": "sleeping"}', 1, retain=True)
        await eventually("the garbage refused", store.count_dead_letters)
        for n in (2, 3):  # the broker replays it after each reconnect of the hub
            hub.adapter.abort_connection()
            await eventually("reconnected", lambda n=n: hub.adapter.stats()["connects"] >= n)
        await eventually(
            "the replays recognised",
            lambda: hub.metrics.dead_letters_dropped.labels("retained")._value.get() >= 2,
        )
        assert store.count_dead_letters() == {"schema_invalid": 1}
        device.publish(topic, b"", 1, retain=True)  # MQTT's delete
        await eventually("the delete taken", hub.metrics.retained_cleared._value.get)
    with MqttTestClient(broker.url) as late:
        late.subscribe(topic)
        await asyncio.sleep(0.5)
        assert late.messages == []  # nothing retained any more
    assert store.count_dead_letters() == {"schema_invalid": 1}
