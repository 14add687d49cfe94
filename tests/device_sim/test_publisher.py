"""The simulator counts what paho really sent, not what it was asked to publish: a QoS 0
message published while disconnected never reaches the network and is counted as dropped."""

from __future__ import annotations

import time
from typing import Any

import pytest

from device_sim.publisher import Connection, Publisher
from device_sim.runner import PublishCounts

pytestmark = [pytest.mark.broker]
TOPIC = "carehub/v1/devices/w-1/telemetry"


def wait_until(check: Any, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_sent_counts_confirmed_messages_and_drops_are_separate(mosquitto_factory: Any) -> None:
    broker = mosquitto_factory()
    conn = Connection(f"{broker.url}?protocol=3", "sim-w-1", None, None)
    conn.connect()
    try:
        for i in range(5):
            conn.publish(TOPIC, b'{"seq": %d}' % i, qos=0)
        for i in range(5, 8):
            conn.publish(TOPIC, b'{"seq": %d}' % i, qos=1)
        wait_until(lambda: conn.sent == 8)
        assert (conn.published, conn.sent, conn.dropped) == (8, 8, 0)

        broker.stop()  # the link is down (a fault run); paho keeps trying to reconnect
        wait_until(lambda: not conn._client.is_connected())
        time.sleep(0.3)
        for i in range(8, 12):
            conn.publish(TOPIC, b'{"seq": %d}' % i, qos=0)  # not handed to the network
        conn.publish(TOPIC, b'{"seq": 12}', qos=1)  # queued by paho, never acknowledged
        time.sleep(0.2)
        assert (conn.published, conn.sent, conn.dropped) == (13, 8, 4)
    finally:
        conn._client.loop_stop()
    counts = PublishCounts(conn.published, conn.sent, conn.dropped)
    assert counts.in_flight == 1
    assert counts.as_dict() == {"published": 13, "sent": 8, "dropped": 4, "in_flight": 1}


def test_publisher_sums_its_connections(mosquitto: Any) -> None:
    pub = Publisher(f"{mosquitto.url}?protocol=3", {"sim-a": (None, None), "sim-b": (None, None)})
    pub.connect()
    try:
        pub.publish("sim-a", TOPIC, b"{}", 1, False)
        pub.publish("sim-b", TOPIC, b"{}", 0, False)
    finally:
        pub.close()
    assert (pub.published, pub.sent, pub.dropped) == (2, 2, 0)
