"""Broker accounts in Mosquitto's Dynamic Security plugin: the I/O side of :mod:`hub.broker.dynsec`.

:class:`BrokerAdmin` connects as the plugin's admin (``mqtt://admin:PASS@broker:1883``,
created by ``mosquitto_ctrl dynsec init``), publishes command documents through
:class:`hub.mqtt.adapter.MqttAdapter` and waits, with a timeout, for the answer that carries its
correlation data::

    async with BrokerAdmin("mqtt://admin:secret@broker:1883") as admin:
        await admin.ensure_devices([(device, password)])

:class:`SyncBrokerAdmin` is the same for the CLI and the registry (one connection per call,
``asyncio.run`` inside); it is what :class:`hub.registry.provisioning.BrokerAccounts` describes.
Every failure is a :class:`hub.errors.BrokerError` with the plugin's own error text.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

from hub.broker import dynsec
from hub.broker.dynsec import Acl, ClientState, Command, Reply, raise_for
from hub.errors import BrokerError, ConfigError
from hub.mqtt.adapter import MqttAdapter
from hub.mqtt.settings import MqttSettings
from hub.store.base import Device

DEFAULT_TIMEOUT = 10.0
_CHUNK = 100  # commands per document: the plugin saves its file after each command anyway
T = TypeVar("T")
HubAccount = Literal["created", "rotated", "exists"]


class BrokerAdmin:
    """Manage device and hub accounts over one admin connection (async)."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        settings = MqttSettings.from_url(url)
        if not settings.username or settings.password is None:
            raise ConfigError(
                "the broker admin URL needs the dynamic-security admin's username and "
                "password, e.g. mqtt://admin:PASSWORD@broker:1883"
            )
        if "client_id" not in parse_qs(urlsplit(url).query):
            # Never the hub's default client id: connecting with it would kick the hub off.
            client_id = f"carehub-admin-{socket.gethostname()}-{secrets.token_hex(4)}"
            settings = replace(settings, client_id=client_id)
        self.settings = replace(settings, clean_start=True, session_expiry=0)
        self.timeout = timeout
        self._adapter: MqttAdapter | None = None
        self._prefix = secrets.token_hex(6)
        self._requests = 0

    async def start(self) -> None:
        """Connect and subscribe to the plugin's response topic."""
        adapter = MqttAdapter(
            self.settings,
            subscriptions=[(dynsec.RESPONSE_TOPIC, 1)],
            manual_ack=False,
            queue_size=1_000,
        )
        try:
            await adapter.start(wait_connected=self.timeout)
        except BrokerError as exc:
            raise BrokerError(
                f"{exc} as the dynamic-security admin {self.settings.username!r}; check "
                "CAREHUB_BROKER_ADMIN_URL (host, port, admin username and password)"
            ) from None
        self._adapter = adapter

    async def stop(self) -> None:
        adapter, self._adapter = self._adapter, None
        if adapter is not None:
            await adapter.stop(grace=2.0)

    async def __aenter__(self) -> BrokerAdmin:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # -- the protocol ----------------------------------------------------------------------

    async def execute(self, commands: Sequence[Command]) -> list[Reply]:
        """Send ``commands`` (in documents of at most 100) and return one reply each."""
        replies: list[Reply] = []
        for start in range(0, len(commands), _CHUNK):
            replies += await self._request(commands[start : start + _CHUNK])
        return replies

    async def _request(self, commands: Sequence[Command]) -> list[Reply]:
        adapter = self._adapter
        if adapter is None:
            raise BrokerError("broker admin not started")
        self._requests += 1
        request_id = f"carehub-{self._prefix}-{self._requests}"
        adapter.publish(dynsec.CONTROL_TOPIC, dynsec.encode(commands, request_id), qos=1)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await adapter.get()
            except TimeoutError:
                names = ", ".join(sorted({c["command"] for c in commands}))
                raise BrokerError(
                    f"no answer to {names} from Mosquitto's dynamic-security plugin within "
                    f"{self.timeout:g} s: is the plugin loaded, and is "
                    f"{self.settings.username!r} its admin?"
                ) from None
            replies = dynsec.match_replies(message.payload, request_id, len(commands))
            if replies is not None:
                return replies

    # -- devices ---------------------------------------------------------------------------

    async def ensure_devices(self, items: Sequence[tuple[Device, str]]) -> list[bool]:
        """Create (or bring up to date) each device's role and client with its password.

        Returns, per device, whether its client was created (``False``: an earlier client of
        the same device got the new password and role). All or nothing: when any device
        fails, the clients and roles created by this call are deleted again and
        :class:`BrokerError` lists the failures. A username held by a client that is not a
        carehub device (e.g. the admin) is refused, never overwritten.
        """
        commands = [
            c for d, pw in items for c in dynsec.device_commands(d.id, pw, d.kind, d.gateway_id)
        ]
        replies = await self.execute(commands)
        role_new = [r.ok for r in replies[0::2]]
        client_new = [r.ok for r in replies[1::2]]
        problems: list[str] = []
        existing_roles: dict[str, list[Acl]] = {}
        existing_clients: list[int] = []
        for i, (d, _pw) in enumerate(items):
            role_reply, client_reply = replies[2 * i], replies[2 * i + 1]
            if role_reply.already_exists:
                existing_roles[dynsec.role_name(d.id)] = dynsec.acls_for(d.id, d.kind, d.gateway_id)
            elif not role_reply.ok:
                problems.append(f"role of {d.id}: {role_reply.error}")
            if client_reply.already_exists:
                existing_clients.append(i)
            elif not client_reply.ok:
                problems.append(f"client {d.id}: {client_reply.error}")
        try:
            await self._upsert_roles(existing_roles)
            if existing_clients and not problems:
                problems += await self._take_over(items, existing_clients)
        except BrokerError as exc:
            problems.append(str(exc))
        if problems:
            created = [d.id for (d, _), new in zip(items, client_new, strict=True) if new]
            roles = [d.id for (d, _), new in zip(items, role_new, strict=True) if new]
            await self._undo(created, roles)
            raise BrokerError(
                "Mosquitto dynamic security refused the device accounts: " + "; ".join(problems)
            )
        return client_new

    async def _take_over(
        self, items: Sequence[tuple[Device, str]], indexes: list[int]
    ) -> list[str]:
        """Give clients that already exist the new password and role, if they are ours."""
        names = [items[i][0].id for i in indexes]
        answers = await self.execute([dynsec.get_client(n) for n in names])
        problems, updates = [], []
        for i, name, answer in zip(indexes, names, answers, strict=True):
            state = dynsec.client_state(answer, name, dynsec.role_name(name))
            if state == "foreign":
                problems.append(
                    f"a broker client named {name!r} exists and is not a carehub device "
                    "(it has other roles or groups); choose another device id"
                )
            else:
                updates.append(
                    dynsec.modify_client(name, items[i][1], [dynsec.role_name(name)], name)
                )
        if not problems:
            for update, reply in zip(updates, await self.execute(updates), strict=True):
                raise_for(reply, f"updating client {update['username']}")
        return problems

    async def _upsert_roles(self, roles: dict[str, list[Acl]]) -> None:
        """Bring existing roles to the wanted ACLs, touching only those that differ."""
        if not roles:
            return
        names = list(roles)
        answers = await self.execute([dynsec.get_role(n) for n in names])
        fixes: list[Command] = []
        for name, answer in zip(names, answers, strict=True):
            if answer.not_found:
                fixes.append(dynsec.create_role(name, roles[name]))
            elif dynsec.role_acls_differ(answer, roles[name]):
                fixes.append(dynsec.modify_role(name, roles[name]))
        for fix, reply in zip(fixes, await self.execute(fixes), strict=True):
            raise_for(reply, f"{fix['command']} {fix['rolename']}")

    async def _undo(self, clients: Sequence[str], roles: Sequence[str]) -> None:
        commands = [dynsec.delete_client(c) for c in clients]
        commands += [dynsec.delete_role(dynsec.role_name(r)) for r in roles]
        if commands:
            # a failure here is covered by the error the caller raises anyway
            with contextlib.suppress(BrokerError):
                await self.execute(commands)

    async def set_password(self, device: Device, password: str) -> None:
        """Give a device's client a new password (its current sessions are disconnected);
        a device without a client gets one, with its role."""
        role = dynsec.role_name(device.id)
        (answer,) = await self.execute([dynsec.get_client(device.id)])
        state = dynsec.client_state(answer, device.id, role)
        if state == "missing":
            await self.ensure_devices([(device, password)])
            return
        if state == "foreign":
            raise BrokerError(
                f"the broker client {device.id!r} is not a carehub device; not changing it"
            )
        commands = [dynsec.set_client_password(device.id, password)]
        if state == "no_role":
            await self._upsert_roles(
                {role: dynsec.acls_for(device.id, device.kind, device.gateway_id)}
            )
            commands.append(dynsec.add_client_role(device.id, role))
        for command, reply in zip(commands, await self.execute(commands), strict=True):
            raise_for(reply, f"{command['command']} {device.id}")

    async def remove_devices(self, device_ids: Sequence[str]) -> None:
        """Delete the clients and roles of devices (absent ones are fine; clients that are
        not carehub devices are left alone)."""
        answers = await self.execute([dynsec.get_client(d) for d in device_ids])
        commands: list[Command] = []
        for device_id, answer in zip(device_ids, answers, strict=True):
            if dynsec.client_state(answer, device_id, dynsec.role_name(device_id)) != "foreign":
                commands.append(dynsec.delete_client(device_id))
            commands.append(dynsec.delete_role(dynsec.role_name(device_id)))
        for command, reply in zip(commands, await self.execute(commands), strict=True):
            if not reply.not_found:
                raise_for(reply, f"{command['command']} {command.get('username', '')}")

    async def sync_devices(self, devices: Sequence[Device]) -> dict[str, ClientState]:
        """Create or update every device's role; give clients back a missing role.

        Returns each device's client state as found: ``missing`` clients need a password
        (see ``carehub broker sync --rotate``), ``foreign`` ones belong to someone else.
        """
        await self._upsert_roles(
            {dynsec.role_name(d.id): dynsec.acls_for(d.id, d.kind, d.gateway_id) for d in devices}
        )
        answers = await self.execute([dynsec.get_client(d.id) for d in devices])
        states = {
            d.id: dynsec.client_state(a, d.id, dynsec.role_name(d.id))
            for d, a in zip(devices, answers, strict=True)
        }
        fixes = [
            dynsec.add_client_role(i, dynsec.role_name(i))
            for i, s in states.items()
            if s == "no_role"
        ]
        # accounts made before client ids were bound: bind them (device id = client id)
        fixes += [
            dynsec.bind_client_id(d.id, d.id)
            for d, a in zip(devices, answers, strict=True)
            if states[d.id] in ("ok", "no_role") and dynsec.bound_client_id(a) != d.id
        ]
        for fix, reply in zip(fixes, await self.execute(fixes), strict=True):
            raise_for(reply, f"{fix['command']} {fix['username']}")
        return states

    async def client_states(self, device_ids: Sequence[str]) -> dict[str, ClientState]:
        """The broker client state of each device, changing nothing."""
        answers = await self.execute([dynsec.get_client(d) for d in device_ids])
        return {
            d: dynsec.client_state(a, d, dynsec.role_name(d))
            for d, a in zip(device_ids, answers, strict=True)
        }

    # -- the hub ---------------------------------------------------------------------------

    async def ensure_hub_account(
        self, username: str, password: str, *, rotate: bool = False, client_id: str | None = None
    ) -> HubAccount:
        """Create the hub's service account (role ``carehub-hub``) with ``password``.

        An existing account keeps its password unless ``rotate``; its role is brought up to
        date either way. With ``client_id`` the account is bound to that MQTT client id (one
        hub node per account). Returns what happened: ``created``, ``rotated`` or ``exists``.
        """
        role = dynsec.HUB_ROLE
        await self._upsert_roles({role: dynsec.hub_acls()})
        (answer,) = await self.execute([dynsec.get_client(username)])
        state = dynsec.client_state(answer, username, role)
        if state == "foreign":
            raise BrokerError(
                f"the broker client {username!r} exists with other roles; choose another "
                "username for the hub"
            )
        commands: list[Command] = []
        if state == "missing":
            commands.append(
                dynsec.create_client(username, password, [role], "carehub hub", client_id)
            )
            result: HubAccount = "created"
        elif rotate:
            commands.append(dynsec.modify_client(username, password, [role], client_id))
            result = "rotated"
        else:
            result = "exists"
            if state == "no_role":
                commands.append(dynsec.add_client_role(username, role))
            if client_id is not None and dynsec.bound_client_id(answer) != client_id:
                commands.append(dynsec.bind_client_id(username, client_id))
        for command, reply in zip(commands, await self.execute(commands), strict=True):
            raise_for(reply, f"{command['command']} {username}")
        return result


class SyncBrokerAdmin:
    """Blocking facade over :class:`BrokerAdmin` for the CLI: each call connects, works and
    disconnects (``asyncio.run``), so it must not be called from a running event loop."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        BrokerAdmin(url, timeout=timeout)  # fail early on a malformed URL
        self.url = url
        self.timeout = timeout

    def _run(self, work: Callable[[BrokerAdmin], Awaitable[T]]) -> T:
        async def main() -> T:
            async with BrokerAdmin(self.url, timeout=self.timeout) as admin:
                return await work(admin)

        return asyncio.run(main())

    def add_devices(self, items: Sequence[tuple[Device, str]]) -> list[bool]:
        """See :meth:`BrokerAdmin.ensure_devices`."""
        return self._run(lambda a: a.ensure_devices(items)) if items else []

    def set_password(self, device: Device, password: str) -> None:
        """See :meth:`BrokerAdmin.set_password`."""
        self._run(lambda a: a.set_password(device, password))

    def remove_devices(self, device_ids: Sequence[str]) -> None:
        """See :meth:`BrokerAdmin.remove_devices`."""
        if device_ids:
            self._run(lambda a: a.remove_devices(device_ids))

    def sync_devices(self, devices: Sequence[Device]) -> dict[str, ClientState]:
        """See :meth:`BrokerAdmin.sync_devices`."""
        return self._run(lambda a: a.sync_devices(devices)) if devices else {}

    def client_states(self, device_ids: Sequence[str]) -> dict[str, ClientState]:
        """See :meth:`BrokerAdmin.client_states`."""
        return self._run(lambda a: a.client_states(device_ids)) if device_ids else {}

    def hub_account(
        self, username: str, password: str, *, rotate: bool = False, client_id: str | None = None
    ) -> HubAccount:
        """See :meth:`BrokerAdmin.ensure_hub_account`."""
        return self._run(
            lambda a: a.ensure_hub_account(username, password, rotate=rotate, client_id=client_id)
        )


__all__ = ["DEFAULT_TIMEOUT", "BrokerAdmin", "HubAccount", "SyncBrokerAdmin"]
