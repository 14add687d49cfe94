"""The dynamic-security command builders and answer parsing (pure, no broker).

ACLs are checked by evaluating them the way the plugin does (highest priority first, first
match decides, publishing and subscribing denied by default), with paho's topic matcher.
"""

from __future__ import annotations

import json

import pytest
from paho.mqtt.client import topic_matches_sub

from hub.broker import dynsec
from hub.broker.dynsec import Acl, Reply
from hub.contract.topics import INBOUND_TYPES, OUTBOUND_TYPES, device_topic
from hub.errors import BrokerError


def allowed(acls: list[Acl], acltype: str, topic: str) -> bool:
    """Whether ``acls`` let a client do ``acltype`` on ``topic`` (plugin defaults: deny)."""
    for acl in sorted(acls, key=lambda a: -a.priority):
        if acl.acltype == acltype and topic_matches_sub(acl.topic, topic):
            return acl.allow
    return False


def may_subscribe(acls: list[Acl], topic_filter: str) -> bool:
    """Literal ACLs match the filter exactly; pattern ACLs must cover it."""
    for acl in sorted(acls, key=lambda a: -a.priority):
        literal = acl.acltype == "subscribeLiteral" and acl.topic == topic_filter
        pattern = acl.acltype == "subscribePattern" and topic_matches_sub(acl.topic, topic_filter)
        if literal or pattern:
            return acl.allow
    return False


def test_a_device_publishes_only_under_its_own_tree() -> None:
    acls = dynsec.device_acls("w-1")
    for t in INBOUND_TYPES:
        assert allowed(acls, "publishClientSend", device_topic("w-1", t))
    for t in OUTBOUND_TYPES:  # the hub's cmd and errors cannot be forged
        assert not allowed(acls, "publishClientSend", device_topic("w-1", t))
    assert not allowed(acls, "publishClientSend", device_topic("w-2", "telemetry"))
    assert not allowed(acls, "publishClientSend", "carehub/v1/hub/status")
    # a mistyped topic of its own reaches the hub, which answers with topic_invalid
    assert allowed(acls, "publishClientSend", "carehub/v1/devices/w-1/telemtry")
    subscriptions = [a for a in acls if a.acltype.startswith("subscribe")]
    assert all("#" not in a.topic and "+" not in a.topic for a in subscriptions)


def test_a_device_subscribes_only_to_its_cmd_and_errors() -> None:
    acls = dynsec.device_acls("w-1")
    assert may_subscribe(acls, "carehub/v1/devices/w-1/cmd")
    assert may_subscribe(acls, "carehub/v1/devices/w-1/errors")
    assert allowed(acls, "publishClientReceive", "carehub/v1/devices/w-1/cmd")
    for other in ("carehub/v1/devices/w-2/cmd", "carehub/v1/devices/+/cmd", "carehub/#", "#"):
        assert not may_subscribe(acls, other), other


def test_a_sub_device_gets_its_topics_under_its_gateway() -> None:
    acls = dynsec.acls_for("door-1", "door", "gw-9")
    assert allowed(acls, "publishClientSend", "carehub/v1/gateways/gw-9/devices/door-1/event")
    assert not allowed(acls, "publishClientSend", "carehub/v1/devices/door-1/event")
    assert not allowed(acls, "publishClientSend", "carehub/v1/gateways/gw-9/devices/x/event")
    assert may_subscribe(acls, "carehub/v1/gateways/gw-9/devices/door-1/cmd")


def test_a_gateway_owns_its_tree_but_not_the_hubs_topics_in_it() -> None:
    acls = dynsec.acls_for("gw-9", "gateway")
    assert allowed(acls, "publishClientSend", "carehub/v1/gateways/gw-9/status")
    assert allowed(acls, "publishClientSend", "carehub/v1/gateways/gw-9/devices/door-1/event")
    for forged in (
        "carehub/v1/gateways/gw-9/cmd",
        "carehub/v1/gateways/gw-9/errors",
        "carehub/v1/gateways/gw-9/devices/door-1/cmd",
        "carehub/v1/gateways/gw-9/devices/door-1/errors",
    ):
        assert not allowed(acls, "publishClientSend", forged), forged
        assert allowed(acls, "publishClientReceive", forged)
    assert not allowed(acls, "publishClientSend", "carehub/v1/gateways/gw-1/status")
    assert not allowed(acls, "publishClientSend", "carehub/v1/devices/gw-9/status")
    assert may_subscribe(acls, "carehub/v1/gateways/gw-9/devices/+/cmd")
    assert not may_subscribe(acls, "carehub/v1/gateways/+/cmd")


def test_the_hub_reads_everything_and_writes_only_cmd_errors_and_its_status() -> None:
    acls = dynsec.hub_acls()
    assert may_subscribe(acls, "carehub/v1/devices/#")
    assert may_subscribe(acls, "$share/hubs/carehub/v1/gateways/#")
    assert not may_subscribe(acls, "#")
    for topic in (
        device_topic("w-1", "cmd"),
        device_topic("w-1", "errors"),
        device_topic("gw-9", "cmd", "gw-9"),
        device_topic("door-1", "errors", "gw-9"),
        "carehub/v1/hub/status",
    ):
        assert allowed(acls, "publishClientSend", topic), topic
    for t in INBOUND_TYPES:
        assert not allowed(acls, "publishClientSend", device_topic("w-1", t))
        assert not allowed(acls, "publishClientSend", device_topic("door-1", t, "gw-9"))


def test_device_commands_create_the_role_before_the_client_that_uses_it() -> None:
    role, client = dynsec.device_commands("w-1", "s3cret", "wearable")
    assert role["command"] == "createRole"
    assert role["rolename"] == "carehub-device-w-1"
    assert {a["topic"] for a in role["acls"]} == {a.topic for a in dynsec.device_acls("w-1")}
    assert client["command"] == "createClient"
    assert (client["username"], client["password"]) == ("w-1", "s3cret")
    assert client["roles"] == [{"rolename": "carehub-device-w-1"}]
    removal = dynsec.removal_commands("w-1")
    assert [(c["command"], c.get("username") or c.get("rolename")) for c in removal] == [
        ("deleteClient", "w-1"),
        ("deleteRole", "carehub-device-w-1"),
    ]
    rotation = dynsec.set_client_password("w-1", "n3w")
    assert rotation == {"command": "setClientPassword", "username": "w-1", "password": "n3w"}


def test_answers_are_matched_by_correlation_data() -> None:
    sent = json.loads(dynsec.encode([dynsec.get_client("a"), dynsec.get_client("b")], "req-7"))
    tags = [c["correlationData"] for c in sent["commands"]]
    answer = {
        "responses": [
            {"command": "getClient", "error": "Client not found", "correlationData": tags[1]},
            {"command": "getClient", "data": {"client": {}}, "correlationData": tags[0]},
        ]
    }
    replies = dynsec.match_replies(json.dumps(answer).encode(), "req-7", 2)
    assert replies is not None
    assert [r.ok for r in replies] == [True, False]
    assert replies[1].not_found
    # another admin's answer, another request, or garbage: not ours
    assert dynsec.match_replies(json.dumps(answer).encode(), "req-8", 2) is None
    assert dynsec.match_replies(b"not json", "req-7", 2) is None
    assert dynsec.match_replies(b'{"responses": 3}', "req-7", 2) is None
    with pytest.raises(BrokerError, match="1 of 2"):
        dynsec.match_replies(
            json.dumps({"responses": answer["responses"][:1]}).encode(), "req-7", 2
        )


def test_errors_carry_the_plugins_text() -> None:
    with pytest.raises(BrokerError, match="creating w-1: Role not found"):
        dynsec.raise_for(Reply("createClient", "Role not found"), "creating w-1")
    ok = Reply("createClient")
    assert dynsec.raise_for(ok, "x") is ok
    assert Reply("createClient", "Client already exists").already_exists


def _client(roles: list[str], groups: list[str] | None = None) -> Reply:
    client = {
        "username": "w-1",
        "roles": [{"rolename": r} for r in roles],
        "groups": [{"groupname": g} for g in groups or []],
    }
    return Reply("getClient", data={"client": client})


@pytest.mark.parametrize(
    ("reply", "state"),
    [
        (Reply("getClient", "Client not found"), "missing"),
        (_client(["carehub-device-w-1"]), "ok"),
        (_client([]), "no_role"),
        (_client(["carehub-device-w-1", "admin"]), "foreign"),
        (_client([], ["staff"]), "foreign"),
    ],
)
def test_client_state(reply: Reply, state: str) -> None:
    assert dynsec.client_state(reply, "w-1", "carehub-device-w-1") == state


def test_client_state_raises_on_other_errors() -> None:
    with pytest.raises(BrokerError, match="Internal error"):
        dynsec.client_state(Reply("getClient", "Internal error"), "w-1", "r")


def test_role_acls_are_compared_as_sets() -> None:
    acls = dynsec.device_acls("w-1")
    shown = [a.as_json() for a in reversed(acls)]
    same = Reply("getRole", data={"role": {"rolename": "r", "acls": shown}})
    assert not dynsec.role_acls_differ(same, acls)
    fewer = Reply("getRole", data={"role": {"rolename": "r", "acls": shown[1:]}})
    assert dynsec.role_acls_differ(fewer, acls)
