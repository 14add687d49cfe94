"""The published contract files stay in step with the models.

- the committed JSON Schemas and asyncapi.yaml equal what the models generate;
- the AsyncAPI document has the AsyncAPI 3.0.0 structure and every reference resolves;
- every example (in the AsyncAPI document and in the vendor guide) validates;
- the vendor guide names every error and warning code and every limit.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from carehub.cli_contract import contract_app
from hub.contract import limits, topics
from hub.contract.codes import ALL_CODES, ErrorCode, WarningCode
from hub.contract.generate import (
    ASYNCAPI_FILE,
    MESSAGE_TYPES,
    REGENERATE_COMMAND,
    diff,
    rendered,
    schema_file,
)
from hub.contract.models import CONTRACT_VERSION, EVENT_TYPES, MESSAGE_MODELS

REPO = Path(__file__).resolve().parents[3]
OUT_DIR = REPO / "docs" / "contract" / "v1"
GUIDE = REPO / "docs" / "device-contract.md"


def validate(msg_type: str, payload: Any) -> Any:
    """Validate as the hub does, from JSON text."""
    model = MESSAGE_MODELS[msg_type]
    raw = json.dumps(payload)
    return model.model_validate_json(raw) if isinstance(model, type) else model.validate_json(raw)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded = yaml.safe_load((OUT_DIR / ASYNCAPI_FILE).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer ``#/a/b`` through ``doc``."""
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node: Any = doc
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"{ref}: {part} is not inside an object"
        assert part in node, f"{ref} does not resolve ({part} missing)"
        node = node[part]
    return node


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in all_refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in all_refs(item)]
    return []


# --- generated files ---------------------------------------------------------------------


def test_committed_files_match_the_models() -> None:
    stale = diff(OUT_DIR)
    assert not stale, (
        f"docs/contract/v1 is out of date for {stale}: the models changed without "
        f"regenerating. Run `{REGENERATE_COMMAND}` (or `python -c 'from carehub.cli_contract "
        f"import contract_app; contract_app()' generate`) and commit the result."
    )


def test_generation_is_deterministic() -> None:
    assert rendered() == rendered()


def test_json_files_are_stable_text() -> None:
    for msg_type in MESSAGE_TYPES:
        text = (OUT_DIR / schema_file(msg_type)).read_text(encoding="utf-8")
        schema = json.loads(text)
        assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith(f"/contract/v1/{msg_type}.schema.json")


def test_cli_generate_then_check(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "v1"
    first = runner.invoke(contract_app, ["generate", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in out.iterdir()) == sorted(rendered())
    assert runner.invoke(contract_app, ["check", "--out", str(out)]).exit_code == 0
    again = runner.invoke(contract_app, ["generate", "--out", str(out)])
    assert "up to date" in again.output

    (out / "reply.schema.json").write_text("{}\n", encoding="utf-8")
    (out / ASYNCAPI_FILE).unlink()
    stale = runner.invoke(contract_app, ["check", "--out", str(out)])
    assert stale.exit_code == 1
    assert "reply.schema.json" in stale.output
    assert ASYNCAPI_FILE in stale.output
    assert "status.schema.json" not in stale.output
    fixed = runner.invoke(contract_app, ["generate", "--out", str(out)])
    assert "reply.schema.json" in fixed.output
    assert diff(out) == []


# --- AsyncAPI structure ------------------------------------------------------------------

# Fixed fields of the AsyncAPI 3.0.0 objects used here (spec section "Schema"), so a typo
# or a 2.x leftover (e.g. `publish`, a parameter `schema`) fails the test.
ALLOWED = {
    "document": {
        "asyncapi", "id", "info", "servers", "defaultContentType", "channels", "operations",
        "components",
    },
    "info": {
        "title", "version", "description", "termsOfService", "contact", "license", "tags",
        "externalDocs",
    },
    "server": {
        "host", "protocol", "protocolVersion", "pathname", "description", "title", "summary",
        "variables", "security", "tags", "externalDocs", "bindings",
    },
    "channel": {
        "address", "messages", "title", "summary", "description", "servers", "parameters",
        "tags", "externalDocs", "bindings",
    },
    "operation": {
        "action", "channel", "title", "summary", "description", "security", "tags",
        "externalDocs", "bindings", "traits", "messages", "reply",
    },
    "message": {
        "headers", "payload", "correlationId", "contentType", "name", "title", "summary",
        "description", "tags", "externalDocs", "bindings", "examples", "traits",
    },
    "example": {"headers", "payload", "name", "summary"},
    "parameter": {"enum", "default", "description", "examples", "location"},
    "mqtt_operation": {"qos", "retain", "messageExpiryInterval", "bindingVersion"},
    "mqtt_server": {
        "clientId", "cleanSession", "lastWill", "keepAlive", "sessionExpiryInterval",
        "maximumPacketSize", "bindingVersion",
    },
}  # fmt: skip


def test_asyncapi_top_level(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert set(doc) <= ALLOWED["document"]
    assert set(doc["info"]) <= ALLOWED["info"]
    assert doc["info"]["version"] == CONTRACT_VERSION
    assert "device's point of view" in doc["info"]["description"]
    for server in doc["servers"].values():
        assert set(server) <= ALLOWED["server"]
        assert server["protocol"] in ("mqtt", "secure-mqtt")
        for req in server["security"]:
            assert resolve(doc, req["$ref"])["type"] == "userPassword"
        if "bindings" in server:
            mqtt = server["bindings"]["mqtt"]
            assert set(mqtt) <= ALLOWED["mqtt_server"]
            assert json.loads(mqtt["lastWill"]["message"]) == {"state": "offline"}
            assert (mqtt["lastWill"]["qos"], mqtt["lastWill"]["retain"]) == (1, True)


def test_every_reference_resolves(doc: dict[str, Any]) -> None:
    refs = all_refs(doc)
    assert len(refs) > 50
    for ref in refs:
        resolve(doc, ref)


def test_channels_and_parameters(doc: dict[str, Any]) -> None:
    params = doc["components"]["parameters"]
    assert set(params) == {"device_id", "gateway_id", "sub_id"}
    for param in params.values():
        assert set(param) <= ALLOWED["parameter"]
        assert topics.DEVICE_ID_RE.pattern in param["description"]
        assert all(topics.DEVICE_ID_RE.match(example) for example in param["examples"])
    addresses = set()
    for key, channel in doc["channels"].items():
        assert set(channel) <= ALLOWED["channel"], key
        address = channel["address"]
        addresses.add(address)
        assert set(re.findall(r"{(\w+)}", address)) == set(channel["parameters"]), key
        for msg_id, ref in channel["messages"].items():
            assert resolve(doc, ref["$ref"])["name"] == msg_id
    # the three topic forms of each of the six message types
    assert len(addresses) == 18
    concrete = {
        a.replace("{device_id}", "w-001").replace("{gateway_id}", "gw-9").replace("{sub_id}", "d-1")
        for a in addresses
    }
    inbound = {t for t in concrete if t.rsplit("/", 1)[1] in topics.INBOUND_TYPES}
    assert all(topics.parse_topic(t) is not None for t in inbound)
    assert all(topics.is_outbound(t) for t in concrete - inbound)


def test_operations_are_written_from_the_device_side(doc: dict[str, Any]) -> None:
    used_channels = set()
    for key, op in doc["operations"].items():
        assert set(op) <= ALLOWED["operation"], key
        channel_ref = op["channel"]["$ref"]
        channel = resolve(doc, channel_ref)
        used_channels.add(channel_ref.rsplit("/", 1)[1])
        msg_type = channel["address"].rsplit("/", 1)[1]
        expected = "send" if msg_type in topics.INBOUND_TYPES else "receive"
        assert op["action"] == expected, key
        # an operation's messages are a subset of its channel's messages
        for ref in op["messages"]:
            assert ref["$ref"].startswith(channel_ref + "/messages/"), key
            resolve(doc, ref["$ref"])
        mqtt = op["bindings"]["mqtt"]
        assert set(mqtt) <= ALLOWED["mqtt_operation"]
        assert mqtt["bindingVersion"] == "0.2.0"
        assert mqtt["qos"] in (0, 1)
        assert mqtt["retain"] is (msg_type == "status"), key
        if msg_type in ("event", "status", "reply", "cmd", "errors"):
            assert mqtt["qos"] == 1, key
        if msg_type == "cmd":
            reply_channel = resolve(doc, op["reply"]["channel"]["$ref"])
            assert reply_channel["address"] == channel["address"].replace("/cmd", "/reply")
    assert used_channels == set(doc["channels"])


def test_messages_and_schemas(doc: dict[str, Any]) -> None:
    messages = doc["components"]["messages"]
    assert set(messages) == set(MESSAGE_TYPES)
    for name, message in messages.items():
        assert set(message) <= ALLOWED["message"]
        assert message["name"] == name
        assert message["contentType"] == "application/json"
        assert schema_file(name) in message["description"]
        resolve(doc, message["payload"]["$ref"])
    for section, entries in doc["components"].items():
        for key in entries:
            assert re.fullmatch(r"[\w.\-]+", key), f"components/{section}/{key}: invalid key"
    text = json.dumps(doc["components"]["schemas"])
    # AsyncAPI 3.0 schemas are draft-07 based: no 2020-12 keywords, no local $defs refs
    for keyword in ('"prefixItems"', '"$defs"', "#/$defs/", '"$schema"'):
        assert keyword not in text


def test_every_asyncapi_example_validates(doc: dict[str, Any]) -> None:
    seen: dict[str, set[str]] = {}
    for name, message in doc["components"]["messages"].items():
        assert message["examples"], f"{name} has no example"
        for example in message["examples"]:
            assert set(example) <= ALLOWED["example"]
            msg = validate(name, example["payload"])
            kind = getattr(msg, "type", None) or getattr(msg, "cmd", None) or ""
            seen.setdefault(name, set()).add(kind)
            if name == "errors":
                assert msg.code in ALL_CODES
    assert seen["event"] == set(EVENT_TYPES)
    assert seen["cmd"] == {"notify", "config", "ping"}


# --- vendor guide ------------------------------------------------------------------------

FENCE = re.compile(r"^```json(?P<tag>[^\n]*)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.mark.parametrize("code", [*ErrorCode, *WarningCode], ids=str)
def test_guide_explains_every_code(guide: str, code: str) -> None:
    assert f"`{code}`" in guide


def test_guide_json_examples_validate(guide: str) -> None:
    blocks = list(FENCE.finditer(guide))
    assert blocks
    per_type: dict[str, int] = {}
    for block in blocks:
        tag = block["tag"].strip()
        line = guide[: block.start()].count("\n") + 1
        # every JSON block is tagged with its message type, so none escapes validation
        assert tag in MESSAGE_MODELS, f"line {line}: tag the fence (```json telemetry, ...)"
        try:
            payload = json.loads(block["body"])
        except json.JSONDecodeError as exc:
            pytest.fail(f"line {line}: not JSON: {exc}")
        try:
            validate(tag, payload)
        except ValidationError as exc:
            pytest.fail(f"line {line}: not a valid {tag} message: {exc}")
        per_type[tag] = per_type.get(tag, 0) + 1
    assert set(per_type) == set(MESSAGE_TYPES)
    assert per_type["errors"] >= 3


def test_guide_links_the_generated_files(guide: str) -> None:
    for name in rendered():
        assert f"](contract/v1/{name})" in guide, name
        assert (GUIDE.parent / "contract" / "v1" / name).is_file()


def test_guide_states_the_limits(guide: str) -> None:
    for value in (
        "64 KiB",
        str(limits.MAX_ACC_SAMPLES),
        str(limits.SEQ_WINDOW),
        f"{limits.RATE_PER_S:g} messages/s",
        f"burst of {limits.RATE_BURST}",
        str(limits.MAX_EXT_BYTES),
        f"{limits.CLOCK_SKEW_WARN_S:g} s",
        f"{limits.ACC_HZ_RANGE[0]:g}–{limits.ACC_HZ_RANGE[1]:g} Hz",
        str(limits.MAX_TEXT),
    ):
        assert value in guide, value
    assert limits.MAX_PAYLOAD_BYTES == 64 * 1024
