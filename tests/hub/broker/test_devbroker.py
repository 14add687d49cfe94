"""``carehub broker dev``: a local broker that refuses like production (MQTT 5 0x87), so a
device developer sees it before the field does."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.broker.admin import BrokerAdmin
from hub.broker.devbroker import DevBroker
from hub.broker.embedded import free_port
from hub.store.base import Device
from tests.fixtures.dynsec import Mqtt5Client, _ctrl, _plugin

pytestmark = pytest.mark.broker


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevBroker]:
    _ctrl(), _plugin()  # skip (or fail in CI) when Mosquitto is missing
    broker = DevBroker(tmp_path / "dev-broker", port=free_port())
    broker.start()
    yield broker
    broker.stop()


async def test_the_dev_broker_refuses_what_production_refuses(
    dev: DevBroker, mqtt5_clients: Callable[..., Mqtt5Client]
) -> None:
    password = secrets.token_urlsafe(16)
    async with BrokerAdmin(dev.admin_url) as admin:
        await admin.ensure_devices([(Device("w-001", "wearable"), password)])
    device = mqtt5_clients(dev, "w-001", password, client_id="w-001")
    assert device.connect() == "Success"
    assert device.publish("carehub/v1/devices/w-001/telemetry") != "Not authorized"
    assert device.publish("carehub/v1/devices/w-002/telemetry") == "Not authorized"  # 0x87
    assert mqtt5_clients(dev, "w-001", password, client_id="other").connect() != "Success"
    assert dev.hub_password is not None
    hub = mqtt5_clients(dev, "hub", dev.hub_password)
    assert hub.connect() == "Success"
