"""Command documents for Mosquitto's Dynamic Security plugin, and their answers: pure code.

The plugin is driven over MQTT: an admin client publishes ``{"commands": [...]}`` to
``$CONTROL/dynamic-security/v1`` and reads ``{"responses": [...]}`` on
``$CONTROL/dynamic-security/v1/response``, one response per command, in order, each echoing
the command's ``correlationData`` (Mosquitto's ``plugins/dynamic-security/README.md``;
behaviour checked against Mosquitto 2.0.11). :mod:`hub.broker.admin` does the I/O.

What a device may do on the broker (role ``carehub-device-{id}``, client ``{id}``, bound
to the MQTT client id ``{id}``: the broker refuses a login with these credentials and any
other client id, so a device can take neither another device's client id, which would
disconnect that device and fire its Will, nor the hub's):

- publish its inbound topics (``telemetry``, ``event``, ``status``, ``reply``);
- subscribe to and receive its ``cmd`` and ``errors`` topics, nothing else.

A gateway owns its tree ``carehub/v1/gateways/{gw}/#`` except the hub's ``cmd`` and
``errors`` topics in it, which it may only receive. The hub's service account (role
``carehub-hub``) reads everything under ``carehub/v1/`` and writes only ``cmd``,
``errors`` and ``carehub/v1/hub/status``.

>>> [a.topic for a in device_acls("w-001") if a.acltype == "subscribeLiteral"]
['carehub/v1/devices/w-001/cmd', 'carehub/v1/devices/w-001/errors']
>>> role_name("w-001")
'carehub-device-w-001'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from hub.contract.topics import OUTBOUND_TYPES, PREFIX, device_topic
from hub.errors import BrokerError

CONTROL_TOPIC: Final = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC: Final = "$CONTROL/dynamic-security/v1/response"
DEVICE_ROLE_PREFIX: Final = "carehub-device-"
HUB_ROLE: Final = "carehub-hub"
HUB_STATUS_TOPIC: Final = f"{PREFIX}/hub/status"

# Within a role the plugin checks ACLs from the highest priority down and the first match
# decides; a deny must outrank the allow it carves a hole into.
_ALLOW_PRIORITY: Final = 0
_DENY_PRIORITY: Final = 10

Command = dict[str, Any]
ClientState = Literal["ok", "missing", "no_role", "foreign"]


@dataclass(frozen=True, slots=True)
class Acl:
    """One ACL entry of a role, as the plugin names it (``acltype`` such as
    ``publishClientSend``, ``subscribeLiteral``, ``subscribePattern``)."""

    acltype: str
    topic: str
    allow: bool = True
    priority: int = _ALLOW_PRIORITY

    def as_json(self) -> dict[str, Any]:
        """The ACL as the plugin's JSON expects it."""
        return {
            "acltype": self.acltype,
            "topic": self.topic,
            "priority": self.priority,
            "allow": self.allow,
        }


@dataclass(frozen=True, slots=True)
class Reply:
    """The plugin's answer to one command: ``error`` is ``None`` on success."""

    command: str
    error: str | None = None
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def already_exists(self) -> bool:
        """``createClient``/``createRole`` found the name taken."""
        return self.error is not None and "already exists" in self.error

    @property
    def not_found(self) -> bool:
        return self.error is not None and "not found" in self.error


# --- who may do what ---------------------------------------------------------------------


def role_name(device_id: str) -> str:
    """The role that holds a device's (or gateway's) ACLs."""
    return f"{DEVICE_ROLE_PREFIX}{device_id}"


def device_acls(device_id: str, gateway_id: str | None = None) -> list[Acl]:
    """ACLs of a device: publish under its own topic tree (except the hub's ``cmd`` and
    ``errors``), subscribe/receive its ``cmd`` and ``errors``.

    The publish right covers the whole tree, not only the four inbound types, on purpose: a
    message on a mistyped topic (``.../telemtry``) then still reaches the hub, which answers
    with ``topic_invalid`` on the errors topic, instead of the broker dropping it silently
    (under MQTT 3.1.1 a refused publish is acknowledged and lost without a word).
    A sub-device of a gateway gets the same rights on its topics under the gateway.

    >>> [a.topic for a in device_acls("door-1", "gw-9") if a.acltype == "publishClientSend"][0]
    'carehub/v1/gateways/gw-9/devices/door-1/#'
    """
    tree = device_topic(device_id, "#", gateway_id)
    acls = [Acl("publishClientSend", tree)]
    for t in sorted(OUTBOUND_TYPES):
        topic = device_topic(device_id, t, gateway_id)
        acls.append(Acl("publishClientSend", topic, allow=False, priority=_DENY_PRIORITY))
        acls += [Acl("subscribeLiteral", topic), Acl("publishClientReceive", topic)]
    return acls


def gateway_acls(gateway_id: str) -> list[Acl]:
    """ACLs of a home gateway: its whole tree, but the hub's ``cmd``/``errors`` read-only.

    >>> sorted({a.topic for a in gateway_acls("gw-9") if not a.allow})[0]
    'carehub/v1/gateways/gw-9/cmd'
    """
    tree = f"{PREFIX}/gateways/{gateway_id}"
    acls = [
        Acl("publishClientSend", f"{tree}/#"),
        Acl("subscribePattern", f"{tree}/#"),
        Acl("publishClientReceive", f"{tree}/#"),
    ]
    acls += [
        Acl("publishClientSend", topic, allow=False, priority=_DENY_PRIORITY)
        for t in sorted(OUTBOUND_TYPES)
        for topic in (f"{tree}/{t}", f"{tree}/devices/+/{t}")
    ]
    return acls


def acls_for(device_id: str, kind: str, gateway_id: str | None = None) -> list[Acl]:
    """The ACLs a registry device gets: gateways their tree, other devices their topics."""
    if kind == "gateway":
        return gateway_acls(device_id)
    return device_acls(device_id, gateway_id)


def hub_acls() -> list[Acl]:
    """ACLs of the hub's service account.

    Subscribing also covers shared subscriptions (``$share/GROUP/carehub/v1/...``), which
    the plugin checks with the ``$share`` prefix, for hubs that share the device topics.
    """
    read = [
        Acl("subscribePattern", f"{PREFIX}/#"),
        Acl("subscribePattern", f"$share/+/{PREFIX}/#"),
        Acl("publishClientReceive", f"{PREFIX}/#"),
    ]
    write = [
        Acl("publishClientSend", f"{PREFIX}/{path}/{t}")
        for path in ("devices/+", "gateways/+", "gateways/+/devices/+")
        for t in sorted(OUTBOUND_TYPES)
    ]
    return [*read, *write, Acl("publishClientSend", HUB_STATUS_TOPIC)]


# --- commands ------------------------------------------------------------------------------


def create_role(role: str, acls: Sequence[Acl], textname: str = "") -> Command:
    """``createRole`` with its ACLs (fails with "Role already exists" when taken)."""
    cmd: Command = {"command": "createRole", "rolename": role, "acls": _acls(acls)}
    if textname:
        cmd["textname"] = textname
    return cmd


def modify_role(role: str, acls: Sequence[Acl]) -> Command:
    """``modifyRole``: replaces the role's ACLs with ``acls``."""
    return {"command": "modifyRole", "rolename": role, "acls": _acls(acls)}


def get_role(role: str) -> Command:
    return {"command": "getRole", "rolename": role}


def delete_role(role: str) -> Command:
    return {"command": "deleteRole", "rolename": role}


def create_client(
    username: str,
    password: str | None,
    roles: Sequence[str],
    textname: str = "",
    clientid: str | None = None,
) -> Command:
    """``createClient`` with its roles; without a password nobody can log in as it. With
    ``clientid`` the account may connect only with that MQTT client id."""
    cmd: Command = {
        "command": "createClient",
        "username": username,
        "roles": [{"rolename": r} for r in roles],
    }
    if password is not None:
        cmd["password"] = password
    if clientid is not None:
        cmd["clientid"] = clientid
    if textname:
        cmd["textname"] = textname
    return cmd


def modify_client(
    username: str, password: str, roles: Sequence[str], clientid: str | None = None
) -> Command:
    """``modifyClient``: new password and exactly ``roles`` (the plugin disconnects the
    client's current sessions), and the bound client id when given."""
    cmd: Command = {
        "command": "modifyClient",
        "username": username,
        "password": password,
        "roles": [{"rolename": r} for r in roles],
    }
    if clientid is not None:
        cmd["clientid"] = clientid
    return cmd


def bind_client_id(username: str, clientid: str) -> Command:
    """``modifyClient`` binding an account to one MQTT client id."""
    return {"command": "modifyClient", "username": username, "clientid": clientid}


def bound_client_id(reply: Reply) -> str | None:
    """The client id a ``getClient`` answer says the account is bound to (None: any)."""
    client = (reply.data or {}).get("client") or {}
    value = client.get("clientid")
    return value if isinstance(value, str) and value else None


def set_client_password(username: str, password: str) -> Command:
    """``setClientPassword`` (the plugin disconnects sessions that used the old one)."""
    return {"command": "setClientPassword", "username": username, "password": password}


def add_client_role(username: str, role: str) -> Command:
    return {"command": "addClientRole", "username": username, "rolename": role}


def get_client(username: str) -> Command:
    return {"command": "getClient", "username": username}


def delete_client(username: str) -> Command:
    return {"command": "deleteClient", "username": username}


def device_commands(
    device_id: str, password: str, kind: str, gateway_id: str | None = None
) -> list[Command]:
    """Create a device's role and its client (username = device id, bound to the client
    id = device id) with ``password``.

    >>> [c["command"] for c in device_commands("w-1", "pw", "wearable")]
    ['createRole', 'createClient']
    >>> device_commands("w-1", "pw", "wearable")[1]["clientid"]
    'w-1'
    """
    role = role_name(device_id)
    return [
        create_role(role, acls_for(device_id, kind, gateway_id), f"carehub {kind} {device_id}"),
        create_client(device_id, password, [role], f"carehub {kind}", clientid=device_id),
    ]


def removal_commands(device_id: str) -> list[Command]:
    """Delete a device's client and role (answers "not found" when already gone)."""
    return [delete_client(device_id), delete_role(role_name(device_id))]


def encode(commands: Sequence[Command], request_id: str) -> bytes:
    """The command document, each command tagged ``{request_id}/{index}`` so its answer
    can be told from other admins' answers on the shared response topic.

    >>> encode([get_client("w-1")], "r1")
    b'{"commands":[{"command":"getClient","username":"w-1","correlationData":"r1/0"}]}'
    """
    tagged = [{**c, "correlationData": f"{request_id}/{i}"} for i, c in enumerate(commands)]
    return json.dumps({"commands": tagged}, separators=(",", ":")).encode()


# --- answers -------------------------------------------------------------------------------


def match_replies(payload: bytes, request_id: str, count: int) -> list[Reply] | None:
    """The replies to request ``request_id`` (``count`` commands), in command order;
    ``None`` when ``payload`` answers something else (another admin, another request).

    Raises :class:`BrokerError` when the answer is ours but incomplete.

    >>> match_replies(b'{"responses":[{"command":"getClient","error":"Client not found",'
    ...               b'"correlationData":"r1/0"}]}', "r1", 1)
    [Reply(command='getClient', error='Client not found', data=None)]
    """
    try:
        doc = json.loads(payload)
        responses = doc["responses"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(responses, list):
        return None
    found: dict[int, Reply] = {}
    for item in responses:
        if not isinstance(item, dict):
            continue
        corr = item.get("correlationData")
        if not isinstance(corr, str) or corr.rpartition("/")[0] != request_id:
            continue
        index = corr.rpartition("/")[2]
        if not index.isdigit():
            continue
        data = item.get("data")
        found[int(index)] = Reply(
            command=str(item.get("command", "")),
            error=None if item.get("error") is None else str(item["error"]),
            data=data if isinstance(data, dict) else None,
        )
    if not found:
        return None
    if sorted(found) != list(range(count)):
        raise BrokerError(f"the dynamic-security plugin answered {len(found)} of {count} commands")
    return [found[i] for i in range(count)]


def raise_for(reply: Reply, what: str) -> Reply:
    """Return ``reply`` when it succeeded, else raise :class:`BrokerError` naming ``what``
    and the plugin's error text.

    >>> raise_for(Reply("deleteRole", "Role not found"), "deleting role r")
    Traceback (most recent call last):
    ...
    hub.errors.BrokerError: Mosquitto dynamic security refused deleting role r: Role not found
    """
    if reply.error is not None:
        raise BrokerError(f"Mosquitto dynamic security refused {what}: {reply.error}")
    return reply


def client_state(reply: Reply, username: str, role: str) -> ClientState:
    """What a ``getClient`` answer says about a client that should hold ``role``.

    ``foreign`` means the username belongs to a client we did not create (it has other
    roles or groups): we never overwrite it, e.g. a device named after the admin.

    >>> client_state(Reply("getClient", data={"client": {"username": "admin",
    ...     "roles": [{"rolename": "admin"}], "groups": []}}), "admin", "carehub-device-admin")
    'foreign'
    """
    if reply.not_found:
        return "missing"
    raise_for(reply, f"reading client {username}")
    client = (reply.data or {}).get("client") or {}
    roles = {r.get("rolename") for r in client.get("roles") or [] if isinstance(r, dict)}
    if client.get("groups") or roles - {role}:
        return "foreign"
    return "ok" if role in roles else "no_role"


def role_acls_differ(reply: Reply, acls: Sequence[Acl]) -> bool:
    """True when a ``getRole`` answer shows ACLs other than ``acls`` (order aside)."""
    raise_for(reply, "reading a role")
    role = (reply.data or {}).get("role") or {}
    have = {
        (a.get("acltype"), a.get("topic"), bool(a.get("allow")), int(a.get("priority", 0)))
        for a in role.get("acls") or []
        if isinstance(a, dict)
    }
    want = {(a.acltype, a.topic, a.allow, a.priority) for a in acls}
    return have != want


def _acls(acls: Sequence[Acl]) -> list[dict[str, Any]]:
    return [a.as_json() for a in acls]


__all__ = [
    "CONTROL_TOPIC",
    "DEVICE_ROLE_PREFIX",
    "HUB_ROLE",
    "RESPONSE_TOPIC",
    "Acl",
    "ClientState",
    "Command",
    "Reply",
    "acls_for",
    "bind_client_id",
    "bound_client_id",
    "client_state",
    "create_client",
    "create_role",
    "device_acls",
    "device_commands",
    "encode",
    "gateway_acls",
    "hub_acls",
    "match_replies",
    "modify_client",
    "modify_role",
    "raise_for",
    "removal_commands",
    "role_acls_differ",
    "role_name",
    "set_client_password",
]
