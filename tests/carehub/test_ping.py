"""``carehub device ping ID`` sends the contract's ``ping`` and prints the device's reply."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from carehub.cli import app
from hub.registry.provisioning import provision_device
from hub.store import open_store
from hub.store.base import Device
from tests.fixtures.brokers import AmqttThread
from tests.fixtures.mqtt_client import MqttTestClient

runner = CliRunner()
pytestmark = pytest.mark.broker


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ping.sqlite3'}"
    store = open_store(url)
    try:
        provision_device(store, Device("gw-1", "gateway"))
        provision_device(store, Device("door-1", "door", gateway_id="gw-1"))
    finally:
        store.close()
    return url


def answer_pings(url: str, prefix: str, stop: threading.Event) -> Iterator[None]:
    """A gateway that answers every command for its sub-device with ``done``."""
    with MqttTestClient(url) as device:
        device.subscribe(f"{prefix}/cmd")
        answered: set[str] = set()

        def loop() -> None:
            while not stop.is_set():
                for m in device.messages:
                    cmd = json.loads(m.payload)
                    if cmd["id"] not in answered:
                        answered.add(cmd["id"])
                        body = {"id": cmd["id"], "ts": time.time(), "status": "done"}
                        device.publish(f"{prefix}/reply", json.dumps(body).encode())
                time.sleep(0.05)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        yield
        stop.set()
        thread.join(5)


def test_ping_reaches_a_sub_device_and_prints_its_reply(db: str, amqtt_broker: AmqttThread) -> None:
    stop = threading.Event()
    prefix = "carehub/v1/gateways/gw-1/devices/door-1"
    responder = answer_pings(amqtt_broker.url, prefix, stop)
    next(responder)
    try:
        port = urlsplit(amqtt_broker.url).port
        env = {"CAREHUB_EMBEDDED_MQTT_PORT": str(port), "CAREHUB_MQTT_URL": None}
        result = runner.invoke(app, ["device", "ping", "door-1", "--json", "--db", db], env=env)
        assert result.exit_code == 0, result.output
        answer = json.loads(result.output)
        assert answer["status"] == "done"
        assert answer["topic"] == f"{prefix}/cmd"
    finally:
        next(responder, None)


def test_ping_says_when_no_reply_came(db: str, amqtt_broker: AmqttThread) -> None:
    port = urlsplit(amqtt_broker.url).port
    env = {"CAREHUB_EMBEDDED_MQTT_PORT": str(port), "CAREHUB_MQTT_URL": None}
    result = runner.invoke(app, ["device", "ping", "door-1", "--wait", "0.5", "--db", db], env=env)
    assert result.exit_code == 3
    assert "no reply within" in " ".join(result.output.split())
