"""The MQTT adapter against real brokers (a throwaway Mosquitto and the embedded amqtt)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import hub.mqtt.adapter
import hub.mqtt.loop
from hub.broker.embedded import free_port
from hub.errors import BrokerError, ConfigError
from hub.mqtt.adapter import Inbound, MqttAdapter, MqttSettings
from tests.fixtures.brokers import AmqttThread, MosquittoProcess, _mosquitto_binary
from tests.fixtures.mqtt_client import MqttTestClient

TIMEOUT = 20.0


def uid() -> str:
    return uuid.uuid4().hex[:10]


async def next_message(adapter: MqttAdapter) -> Inbound:
    async with asyncio.timeout(TIMEOUT):
        return await adapter.get()


async def eventually(check: Callable[[], bool], within: float = TIMEOUT, what: str = "") -> None:
    """Poll a condition that the adapter's callbacks or another thread make true."""
    try:
        async with asyncio.timeout(within):
            while not check():  # noqa: ASYNC110 - set by callbacks and other threads
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"not within {within} s: {what}") from None


def settings_for(url: str, **query: Any) -> MqttSettings:
    query.setdefault("client_id", f"hub-test-{uid()}")
    query.setdefault("reconnect_max", 1)
    return MqttSettings.from_url(url + "?" + "&".join(f"{k}={v}" for k, v in query.items()))


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a blocking test-client call without blocking the adapter's event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


@pytest.fixture
def watcher(broker: Any) -> Iterator[MqttTestClient]:
    with MqttTestClient(broker.url) as client:
        yield client


@pytest.fixture
def mosquitto_watcher(mosquitto: MosquittoProcess) -> Iterator[MqttTestClient]:
    with MqttTestClient(mosquitto.url) as client:
        yield client


@pytest.fixture
async def adapter_factory() -> Any:
    started: list[MqttAdapter] = []

    async def make(url: str, **kwargs: Any) -> MqttAdapter:
        settings = kwargs.pop("settings", None) or settings_for(url)
        kwargs.setdefault("subscriptions", [])
        adapter = MqttAdapter(settings, **kwargs)
        await adapter.start()
        started.append(adapter)
        return adapter

    yield make
    for adapter in started:
        await adapter.stop()


Factory = Callable[..., Awaitable[MqttAdapter]]


# -- settings -------------------------------------------------------------------------------


def test_settings_parse_every_option() -> None:
    s = MqttSettings.from_url(
        "mqtts://hub%40x:s3cr%2Ft@broker.example:9999?client_id=hub-7&protocol=3"
        "&keepalive=30&clean_start=true&session_expiry=60&ca_file=ca.pem&cert_file=c.pem"
        "&key_file=k.pem&insecure=yes&reconnect_min=0.1&reconnect_max=5"
    )
    assert (s.host, s.port, s.username, s.password) == ("broker.example", 9999, "hub@x", "s3cr/t")
    assert (s.client_id, s.protocol, s.keepalive, s.clean_start) == ("hub-7", 3, 30, True)
    assert (s.tls, s.ca_file, s.cert_file, s.key_file, s.insecure) == (
        True,
        "ca.pem",
        "c.pem",
        "k.pem",
        True,
    )
    assert (s.session_expiry, s.reconnect_min, s.reconnect_max) == (60, 0.1, 5.0)


def test_settings_defaults_are_persistent_mqtt5() -> None:
    s = MqttSettings.from_url("mqtt://localhost")
    assert (s.port, s.protocol, s.clean_start, s.tls) == (1883, 5, False, False)
    assert s.session_expiry > 0
    assert s.client_id.startswith("carehub-hub-")
    assert MqttSettings.from_url("mqtts://localhost").port == 8883
    assert MqttSettings.from_url("mqtt://h?protocol=auto").protocol == 5
    assert MqttSettings.from_url("mqtt://h?protocol=3.1.1").protocol == 3


def test_password_is_masked() -> None:
    s = MqttSettings.from_url("mqtt://hub:TopSecret99@localhost:1883")
    assert "TopSecret99" not in repr(s)
    assert "TopSecret99" not in s.url
    assert "password='***'" in repr(s)
    assert s.url == "mqtt://hub@localhost:1883"
    assert "password=None" in repr(MqttSettings.from_url("mqtt://localhost"))


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("http://localhost", "mqtt://"),
        ("mqtt://", "no host"),
        ("mqtt://localhost:99999", "malformed"),
        ("mqtt://localhost?colour=blue", "unknown MQTT URL option 'colour'"),
        ("mqtt://localhost?protocol=4.5", "protocol"),
        ("mqtt://localhost?keepalive=soon", "not a number"),
        ("mqtt://localhost?clean_start=maybe", "not a boolean"),
        ("mqtt://localhost?ca_file=ca.pem", "mqtts://"),
        ("mqtt://localhost?reconnect_min=5&reconnect_max=1", "reconnect_max"),
    ],
)
def test_bad_urls_are_refused_clearly(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        MqttSettings.from_url(url)


def test_tls_context_verifies_the_broker() -> None:
    strict = MqttSettings.from_url("mqtts://localhost").ssl_context()
    assert (strict.verify_mode, strict.check_hostname) == (ssl.CERT_REQUIRED, True)
    lax = MqttSettings.from_url("mqtts://localhost?insecure=true").ssl_context()
    assert (lax.verify_mode, lax.check_hostname) == (ssl.CERT_REQUIRED, False)


def test_unreadable_tls_files_are_a_config_error() -> None:
    settings = MqttSettings.from_url("mqtts://localhost?ca_file=does-not-exist.pem")
    adapter = MqttAdapter(settings, subscriptions=[])
    with pytest.raises(ConfigError, match="TLS"):
        adapter._make_client(5)


# -- against brokers ------------------------------------------------------------------------


@pytest.mark.broker
async def test_messages_flow_in(
    broker: Any, watcher: MqttTestClient, adapter_factory: Factory
) -> None:
    base = f"t/{uid()}"
    adapter = await adapter_factory(broker.url, subscriptions=[(f"{base}/#", 1)])
    await call(watcher.publish, f"{base}/a", b"zero", qos=0)
    await call(watcher.publish, f"{base}/b", b"\x00one\xff", qos=1)

    first, second = await next_message(adapter), await next_message(adapter)
    got = sorted([first, second], key=lambda m: m.topic)
    # amqtt 0.12.1 delivers at the subscription's QoS, not min(publish, subscription).
    qos_of_zero = 1 if isinstance(broker, AmqttThread) else 0
    assert [(m.topic, m.payload, m.qos, m.retain) for m in got] == [
        (f"{base}/a", b"zero", qos_of_zero, False),
        (f"{base}/b", b"\x00one\xff", 1, False),
    ]
    assert got[1].mid > 0
    assert adapter.ack(got[1]) is True
    assert adapter.ack(got[0]) is bool(qos_of_zero)  # nothing to acknowledge for QoS 0
    stats = adapter.stats()
    assert (stats["received"], stats["dropped"], stats["connected"]) == (2, 0, True)


@pytest.mark.broker
async def test_mqtt5_falls_back_to_311_on_amqtt(
    amqtt_broker: AmqttThread, adapter_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    base = f"t/{uid()}"
    adapter = await adapter_factory(amqtt_broker.url, subscriptions=[(f"{base}/#", 1)])
    assert adapter.protocol == "3.1.1"
    assert any("refused MQTT 5" in r.getMessage() for r in caplog.records)
    with MqttTestClient(amqtt_broker.url) as client:
        await call(client.publish, f"{base}/x", b"after fallback")
        assert (await next_message(adapter)).payload == b"after fallback"


@pytest.mark.broker
async def test_mosquitto_speaks_mqtt5_and_no_local(
    mosquitto: MosquittoProcess, adapter_factory: Factory
) -> None:
    base = f"t/{uid()}"
    adapter = await adapter_factory(mosquitto.url, subscriptions=[(f"{base}/#", 1)])
    assert adapter.protocol == "5"
    published = adapter.publish(f"{base}/own", b"mine", qos=1)
    await eventually(published.done, what="own publish acknowledged")
    with MqttTestClient(mosquitto.url) as client:
        await call(client.publish, f"{base}/theirs", b"theirs")
    # no_local: the adapter's own publish is not echoed back, the other client's is.
    assert (await next_message(adapter)).payload == b"theirs"
    assert adapter.stats()["published"] == 1


@pytest.mark.broker
async def test_publish_errors_become_broker_errors(broker: Any, adapter_factory: Factory) -> None:
    idle = MqttAdapter(settings_for(broker.url), subscriptions=[])
    with pytest.raises(BrokerError, match="not started"):
        idle.publish("t/x", b"x")
    adapter = await adapter_factory(broker.url)
    with pytest.raises(BrokerError, match="cannot publish"):
        adapter.publish("t/#", b"wildcards are not allowed in a topic name")


async def test_start_fails_clearly_when_no_broker_listens() -> None:
    adapter = MqttAdapter(settings_for(f"mqtt://127.0.0.1:{free_port()}"), subscriptions=[])
    with pytest.raises(BrokerError, match="could not connect"):
        await adapter.start(wait_connected=1.0)
    assert adapter.stats()["connected"] is False


@pytest.fixture(params=["mosquitto", "amqtt"])
def restartable(request: pytest.FixtureRequest, mosquitto_factory: Any) -> Iterator[Any]:
    if request.param == "mosquitto":
        yield mosquitto_factory()
        return
    broker = AmqttThread()
    broker.start()
    yield broker
    broker.close()


@pytest.mark.broker
@pytest.mark.slow
async def test_resubscribes_and_republishes_birth_after_broker_restart(
    restartable: Any, adapter_factory: Factory
) -> None:
    base = f"t/{uid()}"
    changes: list[bool] = []
    adapter = await adapter_factory(
        restartable.url,
        subscriptions=[(f"{base}/in/#", 1)],
        birth=(f"{base}/hub/status", b"online"),
    )
    adapter.on_connect_change(changes.append)

    await call(restartable.stop)
    await eventually(lambda: not adapter.stats()["connected"], what="outage noticed")
    await call(restartable.start)  # same port; the broker remembers nothing
    await eventually(lambda: adapter.stats()["connects"] >= 2, within=40, what="reconnected")

    with MqttTestClient(restartable.url) as client:
        await call(client.subscribe, f"{base}/hub/status")
        birth = await call(client.wait_for, lambda m: m.topic == f"{base}/hub/status")
        assert (birth[0].payload, birth[0].retain) == (b"online", True)
        await call(client.publish, f"{base}/in/x", b"after restart", qos=1)
        message = await next_message(adapter)
    assert (message.topic, message.payload) == (f"{base}/in/x", b"after restart")
    assert changes[-2:] == [False, True]


@pytest.mark.broker
async def test_last_will_is_retained_when_the_socket_dies(
    broker: Any, watcher: MqttTestClient, adapter_factory: Factory
) -> None:
    base = f"t/{uid()}"
    will_topic = f"{base}/hub/will"
    # Birth on another topic, so the reconnect does not overwrite the retained Will.
    adapter = await adapter_factory(
        broker.url, will=(will_topic, b"offline"), birth=(f"{base}/hub/birth", b"online")
    )
    await call(watcher.subscribe, will_topic)
    adapter.abort_connection()
    await call(watcher.wait_for, lambda m: m.topic == will_topic and m.payload == b"offline")

    with MqttTestClient(broker.url) as late:
        await call(late.subscribe, will_topic)
        retained = await call(late.wait_for, lambda m: m.topic == will_topic)
    assert (retained[0].payload, retained[0].retain) == (b"offline", True)
    await eventually(lambda: adapter.stats()["connects"] >= 2, what="adapter reconnected")


@pytest.mark.broker
async def test_full_queue_drops_and_never_blocks_reading(
    broker: Any, watcher: MqttTestClient, adapter_factory: Factory
) -> None:
    base = f"t/{uid()}"
    dropped_reports: list[int] = []
    adapter = await adapter_factory(
        broker.url, subscriptions=[(f"{base}/#", 1)], queue_size=5, manual_ack=False
    )
    adapter.on_drop(dropped_reports.append)
    total = 300
    for i in range(total):
        await call(watcher.publish, f"{base}/flood", str(i).encode(), qos=1)
    # Nobody consumes, yet every message reached the adapter: reading went on.
    await eventually(lambda: adapter.stats()["received"] == total, what="all received")
    await eventually(lambda: sum(dropped_reports) == adapter.dropped, what="drops reported")
    assert adapter.dropped == total - 5
    assert adapter.stats()["queue_depth"] == 5

    kept = [(await next_message(adapter)).payload for _ in range(5)]
    assert kept == [b"0", b"1", b"2", b"3", b"4"]
    await call(watcher.publish, f"{base}/later", b"still alive", qos=1)
    assert (await next_message(adapter)).payload == b"still alive"


@pytest.mark.broker
async def test_unacked_message_is_redelivered_after_reconnect(
    mosquitto: MosquittoProcess, mosquitto_watcher: MqttTestClient, adapter_factory: Factory
) -> None:
    watcher = mosquitto_watcher
    base = f"t/{uid()}"
    adapter = await adapter_factory(mosquitto.url, subscriptions=[(f"{base}/#", 1)])
    await call(watcher.publish, f"{base}/sos", b"help", qos=1)
    first = await next_message(adapter)
    assert (first.payload, first.dup) == (b"help", False)

    adapter.abort_connection()  # crash before the store committed: no ack was sent
    again = await next_message(adapter)
    assert (again.payload, again.dup, again.mid) == (b"help", True, first.mid)
    assert adapter.ack(again) is True
    # paho sends packets in order: once this publish is acknowledged the broker has our ack.
    receipt = adapter.publish(f"{base}/hub/flush", b"", qos=1)
    await eventually(receipt.done, what="flush publish acknowledged")

    adapter.abort_connection()  # acknowledged now: the broker must not resend it
    await eventually(lambda: adapter.stats()["connects"] >= 3, what="third connection")
    await call(watcher.publish, f"{base}/next", b"next", qos=1)
    assert (await next_message(adapter)).payload == b"next"


@pytest.mark.broker
@pytest.mark.slow
async def test_dropped_qos1_messages_come_back_when_the_consumer_catches_up(
    mosquitto: MosquittoProcess, mosquitto_watcher: MqttTestClient, adapter_factory: Factory
) -> None:
    watcher = mosquitto_watcher
    base = f"t/{uid()}"
    adapter = await adapter_factory(mosquitto.url, subscriptions=[(f"{base}/#", 1)], queue_size=20)
    assert adapter.receive_maximum == 20
    total = 200
    for i in range(total):
        await call(watcher.publish, f"{base}/m", str(i).encode(), qos=1)
    # MQTT 5 Receive Maximum: before any acknowledgement the broker sends no more than the
    # queue holds (Mosquitto 2.0 stops keeping to it once acknowledgements flow, hence the
    # drops below and the reconnect that gets them again)
    await eventually(lambda: adapter.stats()["queue_depth"] == 20, what="the window filled")
    await asyncio.sleep(0.5)
    assert (adapter.received, adapter.dropped) == (20, 0)

    seen: set[bytes] = set()
    async with asyncio.timeout(60):
        while len(seen) < total:
            message = await adapter.get()
            seen.add(message.payload)
            adapter.ack(message)
    assert seen == {str(i).encode() for i in range(total)}


@pytest.mark.broker
@pytest.mark.allow_error_logs
async def test_failing_hook_is_logged_not_raised(
    broker: Any, watcher: MqttTestClient, adapter_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    base = f"t/{uid()}"
    adapter = await adapter_factory(broker.url, subscriptions=[(f"{base}/#", 1)], queue_size=1)

    def broken(_n: int) -> None:
        raise RuntimeError("hook bug")

    adapter.on_drop(broken)
    for i in range(3):  # QoS 0: the broker's in-flight window does not hold those back
        await call(watcher.publish, f"{base}/x", str(i).encode(), qos=0)
    await eventually(lambda: adapter.dropped == 2, what="drops")
    await eventually(
        lambda: any("hook" in r.getMessage() and r.exc_info for r in caplog.records),
        what="hook failure logged",
    )
    assert (await next_message(adapter)).payload == b"0"


# -- network I/O in the event loop ----------------------------------------------------------


@pytest.mark.broker
async def test_network_io_runs_in_the_event_loop_thread(
    broker: Any, watcher: MqttTestClient, adapter_factory: Factory
) -> None:
    base = f"t/{uid()}"
    receiving_threads: set[int] = set()

    def clock() -> float:  # called by the adapter for every message it receives
        receiving_threads.add(threading.get_ident())
        return time.time()

    adapter = await adapter_factory(broker.url, subscriptions=[(f"{base}/#", 1)], clock=clock)
    for i in range(20):
        await call(watcher.publish, f"{base}/m", str(i).encode(), qos=1)
    got = [(await next_message(adapter)).payload for _ in range(20)]
    assert got == [str(i).encode() for i in range(20)]
    assert receiving_threads == {threading.get_ident()}
    # No thread of the adapter's own (paho names its network thread after the client id).
    client_id = adapter.settings.client_id
    assert [t.name for t in threading.enumerate() if client_id in t.name] == []


@pytest.mark.broker
async def test_publish_and_ack_from_another_thread(
    mosquitto: MosquittoProcess, mosquitto_watcher: MqttTestClient, adapter_factory: Factory
) -> None:
    watcher = mosquitto_watcher
    base = f"t/{uid()}"
    adapter = await adapter_factory(mosquitto.url, subscriptions=[(f"{base}/in/#", 1)])
    await call(watcher.subscribe, f"{base}/out")
    receipt = await call(adapter.publish, f"{base}/out", b"from a worker", 1)
    await eventually(receipt.done, what="publish from a thread acknowledged")
    await call(watcher.wait_for, lambda m: m.topic == f"{base}/out")
    with pytest.raises(BrokerError, match="cannot publish"):
        await call(adapter.publish, "t/#", b"wildcards are not allowed in a topic name")

    await call(watcher.publish, f"{base}/in/a", b"stored", qos=1)
    stored = await next_message(adapter)
    assert await call(adapter.ack, stored) is True
    # Packets leave in order: once this publish is acknowledged the broker has our ack.
    flush = await call(adapter.publish, f"{base}/flush", b"", 1)
    await eventually(flush.done, what="flush publish acknowledged")
    adapter.abort_connection()
    await eventually(lambda: adapter.stats()["connects"] >= 2, what="reconnected")
    await call(watcher.publish, f"{base}/in/b", b"next", qos=1)
    assert (await next_message(adapter)).payload == b"next"  # "stored" was not redelivered
    assert adapter.stats()["published"] == 2


@pytest.mark.broker
@pytest.mark.slow
async def test_pings_keep_an_idle_connection_open(
    mosquitto: MosquittoProcess,
    mosquitto_watcher: MqttTestClient,
    adapter_factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Mosquitto drops a client silent for 1.5 keep-alive periods; it checks only every few
    # seconds (a silent client went after 5-6 s here), hence the long wait.
    monkeypatch.setattr(hub.mqtt.loop, "KEEPALIVE_TICK", 0.1)
    base = f"t/{uid()}"
    settings = settings_for(mosquitto.url, keepalive=1)
    adapter = await adapter_factory(
        mosquitto.url, settings=settings, subscriptions=[(f"{base}/#", 1)]
    )
    await asyncio.sleep(7.0)
    assert (adapter.stats()["connects"], adapter.stats()["connected"]) == (1, True)
    await call(mosquitto_watcher.publish, f"{base}/later", b"still here", qos=1)
    assert (await next_message(adapter)).payload == b"still here"


def _publish_burst(url: str, topic: str, payloads: list[bytes]) -> None:
    """Publish without waiting between messages, so they reach the adapter back to back."""
    with MqttTestClient(url) as client:
        infos = [client._client.publish(topic, p, qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(TIMEOUT)
            assert info.is_published()


@pytest.mark.broker
async def test_bursts_and_large_messages_arrive_whole_and_in_order(
    mosquitto: MosquittoProcess, adapter_factory: Factory
) -> None:
    base = f"t/{uid()}"
    adapter = await adapter_factory(mosquitto.url, subscriptions=[(f"{base}/#", 1)])
    payloads = [f"{i:04d};".encode() * (i % 40 + 1) for i in range(400)]
    # 128 KiB: larger than one socket read, within the brokers' packet limit
    payloads.insert(200, bytes(range(256)) * 512)
    await call(_publish_burst, mosquitto.url, f"{base}/burst", payloads)
    got = [(await next_message(adapter)).payload for _ in payloads]
    assert got == payloads
    assert adapter.stats()["malformed"] == 0


@pytest.mark.broker
async def test_messages_with_and_without_properties_arrive_in_order(
    mosquitto: MosquittoProcess, adapter_factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[int] = []
    plain = hub.mqtt.adapter._plain_publish

    def counting(*args: Any) -> Any:
        found = plain(*args)
        if found is not None:
            taken.append(1)
        return found

    monkeypatch.setattr(hub.mqtt.adapter, "_plain_publish", counting)
    base = f"t/{uid()}"
    adapter = await adapter_factory(mosquitto.url, subscriptions=[(f"{base}/#", 1)])
    sent = [(f"{base}/{i % 7}", f"{i:05d}".encode() * (i % 9 + 1), i % 2) for i in range(600)]

    def publish_all() -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        client.connect("127.0.0.1", mosquitto.port)
        client.loop_start()
        infos = []
        for i, (topic, payload, qos) in enumerate(sent):
            props = None
            if i % 5 == 0:  # a vendor's user property: delivered with it, so paho decodes
                props = Properties(PacketTypes.PUBLISH)
                props.UserProperty = [("vendor", "acme")]
            infos.append(client.publish(topic, payload, qos=qos, properties=props))
        for info in infos:
            info.wait_for_publish(20)
        client.disconnect()
        client.loop_stop()

    await call(publish_all)
    got = [await next_message(adapter) for _ in sent]
    received = [(m.topic, m.payload, m.qos) for m in got]
    # MQTT orders messages per QoS level (a publisher's in-flight window holds back QoS 1)
    for qos in (0, 1):
        assert [r for r in received if r[2] == qos] == [s for s in sent if s[2] == qos]
    assert all(adapter.ack(m) for m in got if m.qos)
    assert 0 < len(taken) < len(sent)  # both paths were taken
    assert adapter.stats()["received"] == len(sent)


def test_the_client_serves_small_reads_from_one_large_read() -> None:
    client = MqttAdapter(settings_for("mqtt://127.0.0.1:1"), subscriptions=[])._make_client(3)
    first, peer = socket.socketpair()
    other, other_peer = socket.socketpair()
    with first, peer, other, other_peer:
        first.setblocking(False)
        other.setblocking(False)
        client._sock = first
        peer.sendall(b"0123456789")
        assert client._sock_recv(1) == b"0"
        assert client.buffered() == 9
        assert client._sock_recv(4) == b"1234"
        assert client._sock_recv(100) == b"56789"
        assert client.buffered() == 0
        with pytest.raises(BlockingIOError):
            client._sock_recv(1)
        peer.sendall(b"abc")
        assert client._sock_recv(1) == b"a"
        client._sock = other  # a new connection never sees the old one's bytes
        assert client.buffered() == 0
        other_peer.sendall(b"xyz")
        assert client._sock_recv(2) == b"xy"
        peer.close()
        client._sock = first
        assert client._sock_recv(5) == b""  # the end of the stream reads as such
        client._sock = None


@pytest.mark.broker
@pytest.mark.allow_error_logs
async def test_a_failing_read_drops_the_connection_not_the_loop(
    mosquitto: MosquittoProcess,
    mosquitto_watcher: MqttTestClient,
    adapter_factory: Factory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = f"t/{uid()}"
    calls = 0

    def clock() -> float:  # fails once, inside paho's read callback
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("clock bug")
        return time.time()

    adapter = await adapter_factory(mosquitto.url, subscriptions=[(f"{base}/#", 1)], clock=clock)
    await call(mosquitto_watcher.publish, f"{base}/sos", b"help", qos=1)
    message = await next_message(adapter)
    # Not acknowledged when the read failed, so the broker sent it again after the reconnect.
    assert (message.payload, message.dup) == (b"help", True)
    await eventually(lambda: adapter.stats()["connects"] >= 2, what="resubscribed")
    assert any("read failed" in r.getMessage() and r.exc_info for r in caplog.records)


def _make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (openssl CLI)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("openssl is not installed; the TLS test must run in CI")
        pytest.skip("openssl is not installed")
    ca_key, ca, key, csr, cert = (
        directory / n for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem")
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for args in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "2", "-extfile", directory / "san.ext"],
    ):  # fmt: skip
        subprocess.run([openssl, *map(str, args)], check=True, capture_output=True)
    return ca, cert, key


@pytest.fixture
def tls_mosquitto(tmp_path: Path) -> Iterator[tuple[MosquittoProcess, Path]]:
    """A throwaway Mosquitto that speaks only TLS; yields it and the CA file to trust."""
    ca, cert, key = _make_certificates(tmp_path)
    proc = MosquittoProcess(_mosquitto_binary(), tmp_path, free_port())
    plain = proc.conf.read_text().splitlines()
    listener = [
        f"listener {proc.port} 127.0.0.1",
        f"cafile {ca}",
        f"certfile {cert}",
        f"keyfile {key}",
    ]
    proc.conf.write_text("\n".join([*listener, *plain[1:]]) + "\n")
    proc.start()
    yield proc, ca
    proc.stop()


@pytest.mark.broker
async def test_tls_round_trip_with_large_messages(
    tls_mosquitto: tuple[MosquittoProcess, Path], adapter_factory: Factory
) -> None:
    proc, ca = tls_mosquitto
    url = f"mqtts://127.0.0.1:{proc.port}"
    base = f"t/{uid()}"
    receiver = await adapter_factory(
        url, settings=settings_for(url, ca_file=ca), subscriptions=[(f"{base}/#", 1)]
    )
    sender = await adapter_factory(url, settings=settings_for(url, ca_file=ca))
    assert receiver.protocol == "5"
    # Most messages span several TLS records (16 kB each) and several socket reads.
    payloads = [bytes([i]) * (i * 9_000 + 1) for i in range(12)]
    receipts = [sender.publish(f"{base}/m", p, qos=1) for p in payloads]
    got = [(await next_message(receiver)).payload for _ in payloads]
    assert got == payloads
    await eventually(lambda: all(r.done() for r in receipts), what="publishes acknowledged")

    with pytest.raises(BrokerError, match="could not connect"):  # an untrusted server
        await MqttAdapter(settings_for(url), subscriptions=[]).start(wait_connected=1.0)
