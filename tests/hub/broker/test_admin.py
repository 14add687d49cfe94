"""Per-device broker accounts in a real Mosquitto with dynamic security, end to end through
the CLI: the printed password works, ACLs confine each device to its own topics (MQTT 5
reason codes show refusals), rotation ends the old password, and a broker refusal leaves
the registry untouched. Also the registry's rollback with a stand-in broker.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from carehub.cli import app
from hub.broker import dynsec
from hub.broker.admin import BrokerAdmin, SyncBrokerAdmin
from hub.errors import BrokerError, Conflict
from hub.registry.provisioning import provision_device, rotate_secret, verify_secret
from hub.store import open_store
from hub.store.base import Device, Resident, Store
from tests.fixtures.dynsec import DynsecMosquitto, Mqtt5Client
from tests.helpers.registry import add_station

runner = CliRunner()
NOT_AUTHORIZED = "Not authorized"
ACCEPTED = ("Success", "No matching subscribers")  # MQTT 5 PUBACK reasons that mean "taken"
Clients = Callable[..., Mqtt5Client]


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    with closing(open_store(url)) as store:
        add_station(store)
        store.add_resident(Resident("r-1", "st-1", "王秀英"))
    return url


def cli(db: str, admin_url: str | None, *args: str, code: int = 0) -> str:
    env = {"CAREHUB_BROKER_ADMIN_URL": admin_url}
    result = runner.invoke(app, [*args, "--db", db], env=env)
    assert result.exit_code == code, result.output
    return result.output


def provision(db: str, broker: DynsecMosquitto, device_id: str, kind: str, *extra: str) -> Any:
    """Provision a device through the CLI; the credentials it prints as JSON."""
    out = cli(db, broker.admin_url, "device", "provision", device_id, "--kind", kind, *extra,
              "--json")  # fmt: skip
    return json.loads(out)


def hub_account(broker: DynsecMosquitto) -> tuple[str, str]:
    username = uid("hub")
    result = runner.invoke(
        app,
        ["broker", "hub-account", "--username", username, "--json"],
        env={"CAREHUB_BROKER_ADMIN_URL": broker.admin_url},
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["result"] == "created"
    return username, answer["password"]


def in_registry(db: str, device_id: str) -> bool:
    with closing(open_store(db)) as store:
        return any(d.id == device_id for d in store.list_devices())


@pytest.mark.broker
def test_a_provisioned_device_gets_working_credentials_confined_to_its_topics(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients, db: str
) -> None:
    broker = dynsec_mosquitto
    hub_user, hub_password = hub_account(broker)
    device_id, other_id = uid("w"), uid("w")
    creds = provision(db, broker, device_id, "wearable", "--resident", "r-1")
    assert creds["broker_account"] is True

    assert (
        mqtt5_clients(broker, device_id, creds["password"] + "x", device_id).connect()
        == NOT_AUTHORIZED
    )
    hub = mqtt5_clients(broker, hub_user, hub_password)
    assert hub.connect() == "Success"
    assert hub.subscribe("carehub/v1/devices/+/telemetry") == "Granted QoS 1"
    device = mqtt5_clients(broker, device_id, creds["password"], device_id)
    assert device.connect() == "Success"

    # its own telemetry reaches the hub; another device's topic and its own cmd are refused
    own = f"carehub/v1/devices/{device_id}/telemetry"
    assert device.publish(f"carehub/v1/devices/{other_id}/telemetry", b"forged") == NOT_AUTHORIZED
    assert device.publish(f"carehub/v1/devices/{device_id}/cmd", b"forged") == NOT_AUTHORIZED
    assert device.publish(own, b'{"seq": 1}') == "Success"
    assert hub.wait_for(lambda m: m[0] == own) == (own, b'{"seq": 1}')
    assert [t for t, _ in hub.messages] == [own]  # the forged one never arrived

    # it hears its own cmd, cannot listen to another device's, and the hub cannot pose as it
    assert device.subscribe(f"carehub/v1/devices/{device_id}/cmd") == "Granted QoS 1"
    assert device.subscribe(f"carehub/v1/devices/{other_id}/cmd") == NOT_AUTHORIZED
    assert device.subscribe("carehub/v1/devices/#") == NOT_AUTHORIZED
    assert hub.publish(f"carehub/v1/devices/{device_id}/cmd", b"help is coming") == "Success"
    device.wait_for(lambda m: m == (f"carehub/v1/devices/{device_id}/cmd", b"help is coming"))
    assert hub.publish(own, b"forged") == NOT_AUTHORIZED


@pytest.mark.broker
def test_a_gateway_publishes_for_its_sub_devices_only(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients, db: str
) -> None:
    broker = dynsec_mosquitto
    gw = uid("gw")
    creds = provision(db, broker, gw, "gateway")
    gateway = mqtt5_clients(broker, gw, creds["password"], gw)
    assert gateway.connect() == "Success"
    assert gateway.publish(f"carehub/v1/gateways/{gw}/devices/door-1/event") in ACCEPTED
    assert gateway.publish(f"carehub/v1/gateways/{gw}/devices/door-1/cmd") == NOT_AUTHORIZED
    assert gateway.publish(f"carehub/v1/gateways/{uid('gw')}/status") == NOT_AUTHORIZED
    assert gateway.subscribe(f"carehub/v1/gateways/{gw}/devices/+/cmd") == "Granted QoS 1"


@pytest.mark.broker
def test_rotation_ends_the_old_password(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients, db: str
) -> None:
    broker = dynsec_mosquitto
    device_id = uid("w")
    old = provision(db, broker, device_id, "pendant")["password"]
    out = cli(db, broker.admin_url, "device", "rotate", device_id)
    new = out.split("password:")[1].split()[0]
    assert new != old
    assert "not updated" not in out
    assert mqtt5_clients(broker, device_id, old, device_id).connect() == NOT_AUTHORIZED
    assert mqtt5_clients(broker, device_id, new, device_id).connect() == "Success"
    with closing(open_store(db)) as store:
        assert verify_secret(store, device_id, new)


@pytest.mark.broker
async def test_a_broker_refusal_leaves_no_device_in_the_registry(
    dynsec_mosquitto: DynsecMosquitto, db: str, tmp_path: Path
) -> None:
    broker = dynsec_mosquitto
    taken = uid("staff")  # a broker client that is not a carehub device
    async with BrokerAdmin(broker.admin_url) as admin:
        (reply,) = await admin.execute([dynsec.create_client(taken, "pw", ["admin"])])
        dynsec.raise_for(reply, "creating the test client")

    def run(*args: str) -> str:
        return cli(db, broker.admin_url, *args, code=1)

    out = await _in_thread(run, "device", "provision", taken, "--kind", "wearable")
    assert "not a carehub device" in out
    assert not in_registry(db, taken)

    # an import is all or nothing on the broker too: the good row's account is undone
    good = uid("w")
    csv_file = tmp_path / "devices.csv"
    csv_file.write_text(f"id,kind\n{good},wearable\n{taken},door\n", encoding="utf-8")
    creds_file = tmp_path / "creds.csv"
    out = await _in_thread(run, "import", "devices", str(csv_file), "--station", "st-1",
                           "--credentials-out", str(creds_file))  # fmt: skip
    assert "not a carehub device" in out
    assert not in_registry(db, good)
    assert not creds_file.exists()
    async with BrokerAdmin(broker.admin_url) as admin:
        assert await admin.client_states([good, taken]) == {good: "missing", taken: "foreign"}


async def _in_thread(fn: Callable[..., str], *args: str) -> str:
    # The CLI runs its own event loop (asyncio.run), which cannot nest inside this test's.
    return await asyncio.to_thread(fn, *args)


@pytest.mark.broker
def test_sync_finds_devices_without_a_broker_account_and_rotates_them(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients, db: str
) -> None:
    broker = dynsec_mosquitto
    device_id = uid("w")
    result = runner.invoke(
        app,
        ["device", "provision", device_id, "--kind", "wearable", "--db", db],
        env={"CAREHUB_BROKER_ADMIN_URL": None},
    )
    assert result.exit_code == 0, result.output
    assert "set CAREHUB_BROKER_ADMIN_URL" in result.stderr
    unused = result.stdout.split("password:")[1].split()[0]
    assert mqtt5_clients(broker, device_id, unused, device_id).connect() == NOT_AUTHORIZED

    out = cli(db, broker.admin_url, "broker", "sync")
    assert device_id in out.split("without a broker account:")[1]
    states = json.loads(cli(db, broker.admin_url, "broker", "sync", "--rotate", "--json"))
    assert states["states"][device_id] == "missing"
    (creds,) = [c for c in states["credentials"] if c["device_id"] == device_id]
    assert mqtt5_clients(broker, device_id, creds["password"], device_id).connect() == "Success"
    after = json.loads(cli(db, broker.admin_url, "broker", "sync", "--json"))
    assert after["states"][device_id] == "ok"
    assert after["credentials"] == []


@pytest.mark.broker
def test_an_unusable_admin_url_is_a_clear_error(db: str) -> None:
    out = cli(db, "http://nowhere", "device", "provision", uid("w"), "--kind", "wearable",
              code=1)  # fmt: skip
    assert "mqtt://" in out
    out = cli(db, "mqtt://127.0.0.1:1", "device", "provision", uid("w"), "--kind", "wearable",
              code=1)  # fmt: skip
    assert "username and password" in " ".join(out.split())  # rich wraps long lines
    with closing(open_store(db)) as store:
        assert store.list_devices() == []


# --- registry rollback with a stand-in broker --------------------------------------------


class FakeBroker:
    """Records calls; ``on_add`` runs inside ``add_devices``; ``fail`` makes calls refuse."""

    def __init__(self, on_add: Callable[[], None] | None = None, fail: bool = False) -> None:
        self.accounts: dict[str, str] = {}
        self.removed: list[str] = []
        self.on_add = on_add
        self.fail = fail

    def add_devices(self, items: Sequence[tuple[Device, str]]) -> list[bool]:
        if self.fail:
            raise BrokerError("refused")
        if self.on_add is not None:
            self.on_add()
        created = [d.id not in self.accounts for d, _ in items]
        self.accounts.update({d.id: pw for d, pw in items})
        return created

    def set_password(self, device: Device, password: str) -> None:
        if self.fail:
            raise BrokerError("refused")
        self.accounts[device.id] = password

    def remove_devices(self, device_ids: Sequence[str]) -> None:
        self.removed += device_ids
        for device_id in device_ids:
            self.accounts.pop(device_id, None)


@pytest.fixture
def store(db: str) -> Any:
    s = open_store(db)
    yield s
    s.close()


def test_registry_undoes_the_broker_account_when_its_own_write_fails(store: Store) -> None:
    # another provisioning of the same id wins the race between the check and the write
    race = FakeBroker(on_add=lambda: store.add_device(Device("w-1", "wearable"), None))
    with pytest.raises(Conflict):
        provision_device(store, Device("w-1", "wearable"), race)
    assert race.removed == ["w-1"]
    assert race.accounts == {}


def test_registry_is_unchanged_when_the_broker_refuses(store: Store) -> None:
    with pytest.raises(BrokerError):
        provision_device(store, Device("w-2", "wearable"), FakeBroker(fail=True))
    assert [d.id for d in store.list_devices()] == []
    broker = FakeBroker()
    creds = provision_device(store, Device("w-3", "wearable"), broker)
    assert broker.accounts == {"w-3": creds.password}
    with pytest.raises(BrokerError):
        rotate_secret(store, "w-3", FakeBroker(fail=True))
    assert verify_secret(store, "w-3", creds.password)  # the old secret still stands
    with pytest.raises(Conflict):  # never overwrites the account of a registered device
        provision_device(store, Device("w-3", "wearable"), broker)
    assert broker.accounts == {"w-3": creds.password}


def test_sync_facade_refuses_a_url_without_admin_credentials() -> None:
    with pytest.raises(Exception, match="username and password"):
        SyncBrokerAdmin("mqtt://127.0.0.1:1883")


@pytest.mark.broker
async def test_the_hub_account_serves_the_hubs_own_adapter(
    dynsec_mosquitto: DynsecMosquitto, mqtt5_clients: Clients, db: str
) -> None:
    from hub.contract.topics import subscriptions
    from hub.mqtt.adapter import MqttAdapter, MqttSettings

    broker = dynsec_mosquitto
    hub_user, hub_password = await asyncio.to_thread(hub_account, broker)
    device_id = uid("w")
    async with BrokerAdmin(broker.admin_url) as admin:
        await admin.ensure_devices([(Device(device_id, "wearable"), "device-pw")])
    url = f"mqtt://{hub_user}:{hub_password}@{broker.host}:{broker.port}?clean_start=true"
    hub = MqttAdapter(
        MqttSettings.from_url(f"{url}&client_id={hub_user}"),
        subscriptions=subscriptions(),
        birth=(dynsec.HUB_STATUS_TOPIC, b"online"),
        will=(dynsec.HUB_STATUS_TOPIC, b"offline"),
        manual_ack=False,
    )
    await hub.start()
    try:
        device = mqtt5_clients(broker, device_id, "device-pw", device_id)
        assert await asyncio.to_thread(device.connect) == "Success"
        errors = f"carehub/v1/devices/{device_id}/errors"
        assert await asyncio.to_thread(device.subscribe, errors) == "Granted QoS 1"
        own = f"carehub/v1/devices/{device_id}/telemetry"
        assert await asyncio.to_thread(device.publish, own, b"{}") == "Success"
        async with asyncio.timeout(15):
            message = await hub.get()
        assert message.topic == own
        hub.publish(errors, b'{"code": "payload_invalid"}', qos=1)
        await asyncio.to_thread(device.wait_for, lambda m: m[0] == errors)
    finally:
        await hub.stop()
