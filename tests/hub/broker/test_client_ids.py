"""Broker identity: a device's account is bound to its own client id, so a device logging in
with its own credentials but another's client id (a device's or the hub's) is refused, and
the owner of that client id stays connected (no Will, no false ``device_offline``)."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable

import pytest

from hub.broker import dynsec
from hub.broker.admin import BrokerAdmin
from hub.store.base import Device
from tests.fixtures.dynsec import DynsecMosquitto, Mqtt5Client

Clients = Callable[..., Mqtt5Client]
pytestmark = pytest.mark.broker


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def still_connected(client: Mqtt5Client, topic: str) -> bool:
    time.sleep(0.5)  # a takeover would have disconnected it by now
    return not client.disconnects and client.publish(topic) != "Not authorized"


async def test_a_device_cannot_use_another_devices_client_id(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients
) -> None:
    a, b = uid("wa"), uid("wb")
    pw_a, pw_b = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    async with BrokerAdmin(dynsec_mosquitto.admin_url) as admin:
        await admin.ensure_devices([(Device(a, "wearable"), pw_a), (Device(b, "wearable"), pw_b)])
    victim = mqtt5_clients(dynsec_mosquitto, b, pw_b, client_id=b)
    assert victim.connect() == "Success"

    thief = mqtt5_clients(dynsec_mosquitto, a, pw_a, client_id=b)
    assert thief.connect() != "Success"

    assert still_connected(victim, f"carehub/v1/devices/{b}/telemetry")
    own = mqtt5_clients(dynsec_mosquitto, a, pw_a, client_id=a)
    assert own.connect() == "Success"  # its own client id still works


async def test_the_hubs_client_id_is_reserved_to_the_hubs_account(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients
) -> None:
    hub_user, hub_id, device = uid("hub"), uid("carehub-hub"), uid("wc")
    hub_pw, device_pw = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    async with BrokerAdmin(dynsec_mosquitto.admin_url) as admin:
        assert await admin.ensure_hub_account(hub_user, hub_pw, client_id=hub_id) == "created"
        await admin.ensure_devices([(Device(device, "wearable"), device_pw)])
        (answer,) = await admin.execute([dynsec.get_client(hub_user)])
        assert dynsec.bound_client_id(answer) == hub_id
    hub = mqtt5_clients(dynsec_mosquitto, hub_user, hub_pw, client_id=hub_id)
    assert hub.connect() == "Success"

    intruder = mqtt5_clients(dynsec_mosquitto, device, device_pw, client_id=hub_id)
    assert intruder.connect() != "Success"

    assert still_connected(hub, dynsec.HUB_STATUS_TOPIC)
    elsewhere = mqtt5_clients(dynsec_mosquitto, hub_user, hub_pw, client_id=uid("other"))
    assert elsewhere.connect() != "Success"  # nor does the hub's account use another id


async def test_sync_binds_accounts_made_before_client_ids_were_bound(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients
) -> None:
    old, pw = uid("wd"), secrets.token_urlsafe(16)
    async with BrokerAdmin(dynsec_mosquitto.admin_url) as admin:
        role = dynsec.role_name(old)
        await admin.execute(
            [
                dynsec.create_role(role, dynsec.acls_for(old, "wearable")),
                dynsec.create_client(old, pw, [role]),  # unbound, as before
            ]
        )
        loose = mqtt5_clients(dynsec_mosquitto, old, pw, client_id=uid("any"))
        assert loose.connect() == "Success"
        loose.close()
        await admin.sync_devices([Device(old, "wearable")])
    assert mqtt5_clients(dynsec_mosquitto, old, pw, client_id=uid("any")).connect() != "Success"
    assert mqtt5_clients(dynsec_mosquitto, old, pw, client_id=old).connect() == "Success"
