"""Commands to devices never wait behind, nor are refused for, error reports: reports take
at most a share of the adapter's outgoing queue and are dropped (and counted) beyond it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.mqtt import adapter as adapter_module
from tests.fixtures.brokers import MosquittoProcess
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.waiting import eventually
from tests.hub.mqtt.test_adapter import Factory, adapter_factory, call, uid

__all__ = ["adapter_factory"]  # the fixture


@pytest.fixture
def device(mosquitto: MosquittoProcess) -> Iterator[MqttTestClient]:
    with MqttTestClient(mosquitto.url) as client:
        yield client


@pytest.mark.broker
async def test_reports_are_dropped_first_when_the_outgoing_queue_is_busy(
    mosquitto: MosquittoProcess,
    device: MqttTestClient,
    adapter_factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = f"carehub/v1/devices/{uid()}"
    await call(device.subscribe, f"{base}/#")
    adapter = await adapter_factory(mosquitto.url)
    assert adapter.publish(f"{base}/errors", b"report 1", qos=1, droppable=True) is not None

    # the broker is slow to acknowledge: reports already hold their share of the queue
    busy = int(adapter_module._OUT_QUEUE * adapter_module._DROPPABLE_SHARE)
    monkeypatch.setattr(adapter_module._Client, "outgoing", lambda _self: busy)
    assert adapter.publish(f"{base}/errors", b"report 2", qos=1, droppable=True) is None
    receipt = adapter.publish(f"{base}/cmd", b'{"cmd": "notify"}', qos=1)
    assert receipt is not None
    await eventually("the command acknowledged by the broker", receipt.done)
    got = await call(device.wait_for, lambda m: m.topic.endswith("/cmd"))
    assert got[0].payload == b'{"cmd": "notify"}'
    assert adapter.stats()["reports_dropped"] == 1
