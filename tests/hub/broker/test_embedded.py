"""The embedded amqtt broker: it relays, retains, delivers Wills, and finds a free port."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from hub.broker.embedded import broker_config, start_embedded_broker
from tests.fixtures.brokers import AmqttThread
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = pytest.mark.broker


def topic(name: str) -> str:
    return f"t/{uuid.uuid4().hex[:10]}/{name}"


def test_config_loads_only_anonymous_auth() -> None:
    config = broker_config("127.0.0.1", 1884)
    assert config["listeners"]["default"] == {"type": "tcp", "bind": "127.0.0.1:1884"}
    # $SYS statistics halve throughput; nothing but auth is loaded.
    assert config["plugins"] == {
        "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
    }


def test_relays_qos1_and_keeps_retained_messages(amqtt_broker: AmqttThread) -> None:
    live, kept = topic("live"), topic("kept")
    with MqttTestClient(amqtt_broker.url) as sub, MqttTestClient(amqtt_broker.url) as pub:
        sub.subscribe(live)
        pub.publish(live, b"hello", qos=1)
        pub.publish(kept, b"last value", qos=1, retain=True)
        (got,) = sub.wait_for(lambda m: m.topic == live)
        assert (got.payload, got.qos) == (b"hello", 1)
    with MqttTestClient(amqtt_broker.url) as late:
        late.subscribe(kept)
        (retained,) = late.wait_for(lambda m: m.topic == kept)
    assert (retained.payload, retained.retain) == (b"last value", True)


def test_last_will_is_delivered_and_retained_on_a_dropped_socket(
    amqtt_broker: AmqttThread,
) -> None:
    status = topic("status")
    with MqttTestClient(amqtt_broker.url) as watcher:
        watcher.subscribe(status)
        device = MqttTestClient(amqtt_broker.url, will=(status, b"offline")).connect()
        try:
            device.abort()
            # amqtt may hand the Will over twice when the socket drops mid-read
            wills = watcher.wait_for(lambda m: m.topic == status)
        finally:
            device.disconnect()
    assert wills and {w.payload for w in wills} == {b"offline"}
    with MqttTestClient(amqtt_broker.url) as late:
        late.subscribe(status)
        kept = late.wait_for(lambda m: m.topic == status)  # twice, when the Will was twice
    assert kept and {(m.payload, m.retain) for m in kept} == {(b"offline", True)}


def test_restarts_on_the_same_port() -> None:
    broker = AmqttThread()
    broker.start()
    try:
        port = broker.port
        broker.stop()
        broker.start()
        assert broker.port == port
        with MqttTestClient(broker.url) as client:
            client.publish(topic("x"), b"after restart", qos=1)
    finally:
        broker.close()


def _connects(url: str) -> bool:
    MqttTestClient(url).connect().disconnect()
    return True


async def test_taken_port_moves_to_a_free_one(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        broker = await start_embedded_broker("127.0.0.1", taken)
        try:
            assert broker.port != taken
            assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
            assert any(
                f"port {taken}" in r.getMessage() and str(broker.port) in r.getMessage()
                for r in caplog.records
                if r.levelname == "WARNING"
            )
            # The broker runs in this loop: the blocking client goes to a thread.
            assert await asyncio.to_thread(_connects, broker.url)
        finally:
            await broker.stop()
    await broker.stop()  # a second stop is harmless


async def test_port_zero_means_any_free_port() -> None:
    broker = await start_embedded_broker(port=0)
    try:
        assert broker.port > 0
        assert await asyncio.to_thread(_connects, broker.url)
    finally:
        await broker.stop()
