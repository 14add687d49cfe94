"""The load generator: devices from several processes reach a real Mosquitto, every message
a well-formed contract message from its own device with increasing ``seq``."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.load import LoadSpec, provision_load, run_load
from hub.contract.models import Telemetry
from hub.store import open_store

pytestmark = [pytest.mark.broker]


def test_load_reaches_the_broker_from_several_processes(mosquitto: Any) -> None:
    received: dict[str, list[int]] = defaultdict(list)
    bad: list[str] = []
    lock = threading.Lock()
    subscribed = threading.Event()

    prefix = f"lt{time.time_ns() % 10**9}"  # the broker is shared with other tests

    def on_message(_c: Any, _u: Any, m: paho.MQTTMessage) -> None:
        device = m.topic.split("/")[3]
        if m.retain or not device.startswith(prefix):
            return
        body = json.loads(m.payload)
        if m.topic.endswith("/telemetry"):
            try:
                Telemetry.model_validate(body)
            except ValueError as exc:
                bad.append(str(exc))
        with lock:
            received[device].append(body["seq"])

    parts = urlsplit(mosquitto.url)
    sub = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"load-test-{time.time_ns()}")
    sub.on_message = on_message
    sub.on_subscribe = lambda *_a: subscribed.set()
    sub.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    sub.subscribe([("carehub/v1/devices/+/telemetry", 1), ("carehub/v1/devices/+/event", 1)])
    sub.loop_start()
    try:
        assert subscribed.wait(10)
        spec = LoadSpec(50, 2, 3.0, rate_per_device=2.0, id_prefix=prefix)
        reports: list[list[int]] = []
        result = run_load(spec, mosquitto.url, report=lambda s, _e: reports.append(s))
        deadline = time.monotonic() + 15
        while sum(len(v) for v in received.values()) < result.sent and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sub.disconnect()
        sub.loop_stop()
    assert result.errors == 0
    assert result.acked == result.sent
    assert len(result.per_process) == 2 and all(n > 0 for n in result.per_process)
    # about 2 msg/s for 3 s from each of 50 devices
    assert 150 <= result.sent <= 450, result
    assert sum(len(v) for v in received.values()) == result.sent
    assert set(received) == {d for d, _ in spec.device_ids()}
    assert not bad, bad[:3]
    for seqs in received.values():
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert reports, "no live report"


def test_provisioning_registers_each_device_once(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'load.sqlite3'}")
    try:
        spec = LoadSpec(devices=10)
        assert provision_load(store, spec) == 10
        assert provision_load(store, spec) == 0
        kinds = sorted(d.kind for d in store.list_devices())
        assert kinds == ["motion"] * 5 + ["wearable"] * 5
    finally:
        store.close()


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LoadSpec(devices=0)
    with pytest.raises(ValueError, match="positive"):
        LoadSpec(devices=1, rate_per_device=0)
