"""Generate the published device contract v1 from the payload models.

The models in :mod:`hub.contract.models` are the single source of truth. This module turns
them into the files vendors read (``docs/contract/v1/``):

- one JSON Schema (draft 2020-12) per message type, ``{type}.schema.json``;
- ``asyncapi.yaml``, an AsyncAPI 3.0.0 document written from the **device's** point of
  view (a device *sends* telemetry and *receives* commands), with the schemas embedded
  under ``components/schemas`` in the dialect AsyncAPI 3.0 schemas use (JSON Schema
  draft-07 plus AsyncAPI keywords).

Everything here is pure except :func:`write_all` and :func:`diff`; output is
deterministic so that a committed file changes only when a model does.

>>> json_schema("reply")["$id"]
'https://carehub.example/contract/v1/reply.schema.json'
>>> sorted(json_schema("reply")["required"])
['id', 'status', 'ts']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import TypeAdapter

from hub.contract import topics
from hub.contract.examples import EXAMPLES
from hub.contract.models import CONTRACT_VERSION, MESSAGE_MODELS

SCHEMA_ID_BASE: Final = "https://carehub.example/contract/v1/"
"""Base of the schemas' ``$id``; ``carehub.example`` is a reserved placeholder domain."""
DRAFT_2020_12: Final = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_OUT_DIR: Final = Path("docs/contract/v1")
MESSAGE_TYPES: Final = ("telemetry", "event", "status", "reply", "cmd", "errors")
ASYNCAPI_FILE: Final = "asyncapi.yaml"
GENERATED_NOTE: Final = (
    "Generated from hub/contract/models.py by `carehub contract generate`; do not edit."
)
REGENERATE_COMMAND: Final = "carehub contract generate"

# Unions have no docstring of their own: their titles and descriptions are written here.
_UNION_DOCS: Final = {
    "event": (
        "Event",
        "A discrete event: topic `.../event`. `type` says which one and decides the other fields.",
    ),
    "cmd": (
        "Command",
        "A command from the hub: topic `.../cmd`. `cmd` says which one; answer it on "
        "`.../reply` with the same `id`.",
    ),
}


def schema_file(msg_type: str) -> str:
    """File name of a message type's JSON Schema.

    >>> schema_file("telemetry")
    'telemetry.schema.json'
    """
    return f"{msg_type}.schema.json"


def _model_schema(msg_type: str) -> dict[str, Any]:
    model = MESSAGE_MODELS[msg_type]
    raw: dict[str, Any]
    if isinstance(model, TypeAdapter):
        raw = model.json_schema(mode="validation")
    else:
        raw = model.model_json_schema(mode="validation")
    schema: dict[str, Any] = _tidy(raw)
    if msg_type in _UNION_DOCS:
        schema["title"], schema["description"] = _UNION_DOCS[msg_type]
    return schema


def _tidy(node: Any) -> Any:
    """Drop pydantic's generated property titles ("Hr", "Alert Id": noise for vendors)
    and turn reStructuredText literals (``x``) into Markdown ones (`x`)."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: _tidy({k: v for k, v in sub.items() if k != "title"})
                for name, sub in value.items()
            }
        elif key == "description" and isinstance(value, str):
            out[key] = value.replace("``", "`")
        else:
            out[key] = _tidy(value)
    return out


def json_schema(msg_type: str) -> dict[str, Any]:
    """The standalone JSON Schema (draft 2020-12, validation mode) of ``msg_type``."""
    return {
        "$schema": DRAFT_2020_12,
        "$id": SCHEMA_ID_BASE + schema_file(msg_type),
        "$comment": GENERATED_NOTE,
        **_model_schema(msg_type),
    }


# --- AsyncAPI ----------------------------------------------------------------------------


def _to_asyncapi_schema(node: Any) -> Any:
    """Rewrite a draft 2020-12 schema fragment into an AsyncAPI 3.0 Schema Object.

    AsyncAPI 3.0 schemas are JSON Schema draft-07 plus a few keywords: tuples use the
    array form of ``items`` instead of ``prefixItems``, local definitions live under
    ``components/schemas``, and AsyncAPI's ``discriminator`` is a property name with
    other semantics than pydantic's OpenAPI-style object, so it is dropped (``oneOf``
    with ``const`` already decides).
    """
    if isinstance(node, list):
        return [_to_asyncapi_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$schema", "$id", "$comment", "$defs", "discriminator"):
            continue
        if key == "$ref":
            out[key] = value.replace("#/$defs/", "#/components/schemas/")
        elif key == "prefixItems":
            out["items"] = _to_asyncapi_schema(value)
            if "items" in node:
                out["additionalItems"] = _to_asyncapi_schema(node["items"])
        elif key == "items" and "prefixItems" in node:
            continue
        elif key == "properties":
            out[key] = {name: _to_asyncapi_schema(sub) for name, sub in value.items()}
        else:
            out[key] = _to_asyncapi_schema(value)
    return out


def _component_schemas() -> tuple[dict[str, Any], dict[str, str]]:
    """All schemas for ``components/schemas`` and, per message type, its top-level name."""
    schemas: dict[str, Any] = {}
    top: dict[str, str] = {}
    for msg_type in MESSAGE_TYPES:
        schema = _model_schema(msg_type)
        defs = schema.pop("$defs", {})
        name = schema["title"]
        top[msg_type] = name
        for def_name, definition in [(name, schema), *sorted(defs.items())]:
            converted = _to_asyncapi_schema(definition)
            if schemas.get(def_name, converted) != converted:
                raise ValueError(f"two different schemas are both named {def_name!r}")
            schemas[def_name] = converted
    return schemas, top


@dataclass(frozen=True, slots=True)
class _Route:
    """One topic form: a device on its own, a gateway itself, or a gateway's sub-device."""

    key: str
    prefix: str
    params: tuple[str, ...]
    who: str


_ROUTES: Final = (
    _Route("device", f"{topics.PREFIX}/devices/{{device_id}}", ("device_id",), "a device"),
    _Route(
        "gateway", f"{topics.PREFIX}/gateways/{{gateway_id}}", ("gateway_id",), "a gateway itself"
    ),
    _Route(
        "subDevice",
        f"{topics.PREFIX}/gateways/{{gateway_id}}/devices/{{sub_id}}",
        ("gateway_id", "sub_id"),
        "a gateway on behalf of a sub-device registered to it",
    ),
)


@dataclass(frozen=True, slots=True)
class _TypeInfo:
    action: str
    qos: int
    retain: bool
    summary: str


_TYPE_INFO: Final = {
    "telemetry": _TypeInfo(
        "send",
        1,
        False,
        "Periodic readings. QoS 1: the hub acknowledges only once the reading is stored. "
        "QoS 0 is accepted too, but a reading lost on the way is only counted (seq gaps).",
    ),
    "event": _TypeInfo(
        "send",
        1,
        False,
        "Discrete events (SOS, fall, door, bed, hazards...). QoS 1: the hub acknowledges "
        "only once the event is stored.",
    ),
    "status": _TypeInfo(
        "send",
        1,
        True,
        "Presence, retained: the birth message `online` after every connect, the Last "
        'Will `{"state":"offline"}`, and `offline` with `reason` before a clean shutdown.',
    ),
    "reply": _TypeInfo(
        "send", 1, False, "The answer to a command, echoing its `id`. QoS 1, stored."
    ),
    "cmd": _TypeInfo(
        "receive",
        1,
        False,
        "Commands from the hub (notify, config, ping). Answer each on `.../reply`.",
    ),
    "errors": _TypeInfo(
        "receive",
        1,
        False,
        "Why the hub refused one of your messages (severity `error`), or a warning "
        "(severity `warning`). Not retained: subscribe before you publish.",
    ),
}
assert set(_TYPE_INFO) == topics.INBOUND_TYPES | topics.OUTBOUND_TYPES == set(MESSAGE_TYPES)

_MQTT_BINDING_VERSION: Final = "0.2.0"


def _channel_key(route: _Route, msg_type: str) -> str:
    return f"{route.key}{msg_type.capitalize()}"


def _channels_and_operations() -> tuple[dict[str, Any], dict[str, Any]]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for route in _ROUTES:
        for msg_type in MESSAGE_TYPES:
            info = _TYPE_INFO[msg_type]
            key = _channel_key(route, msg_type)
            direction = "to the hub" if info.action == "send" else "from the hub"
            channels[key] = {
                "address": f"{route.prefix}/{msg_type}",
                "description": f"`{msg_type}` messages of {route.who}, {direction}.",
                "messages": {msg_type: {"$ref": f"#/components/messages/{msg_type}"}},
                "parameters": {p: {"$ref": f"#/components/parameters/{p}"} for p in route.params},
            }
            operation: dict[str, Any] = {
                "action": info.action,
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": info.summary,
                "messages": [{"$ref": f"#/channels/{key}/messages/{msg_type}"}],
                "bindings": {
                    "mqtt": {
                        "qos": info.qos,
                        "retain": info.retain,
                        "bindingVersion": _MQTT_BINDING_VERSION,
                    }
                },
            }
            if msg_type == "cmd":
                reply_key = _channel_key(route, "reply")
                operation["reply"] = {
                    "channel": {"$ref": f"#/channels/{reply_key}"},
                    "messages": [{"$ref": f"#/channels/{reply_key}/messages/reply"}],
                }
            name = route.key[0].upper() + route.key[1:]
            operations[f"{info.action}{name}{msg_type.capitalize()}"] = operation
    return channels, operations


def _messages(top_schemas: dict[str, str]) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for msg_type in MESSAGE_TYPES:
        title, description = _UNION_DOCS.get(msg_type, (top_schemas[msg_type], ""))
        schema = _model_schema(msg_type)
        messages[msg_type] = {
            "name": msg_type,
            "title": title,
            "summary": _TYPE_INFO[msg_type].summary,
            "description": (description or schema.get("description", ""))
            + f"\n\nStandalone JSON Schema (draft 2020-12): `{schema_file(msg_type)}`.",
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{top_schemas[msg_type]}"},
            "examples": [
                {"name": ex.name, "summary": ex.summary, "payload": ex.payload}
                for ex in EXAMPLES[msg_type]
            ],
        }
    return messages


_ID_RULE: Final = (
    f"Matches `{topics.DEVICE_ID_RE.pattern}`: 1–64 characters, letters, digits and "
    "`_ . : -`, starting with a letter or digit."
)

_INFO_DESCRIPTION: Final = f"""\
The MQTT contract between care devices (wearables, home-sensor gateways, health monitors)
and the carehub monitoring hub.

**This document is written from the device's point of view**: `send` operations are what a
device publishes to the hub, `receive` operations are what it gets from the hub (commands
and error reports). Every topic exists in three forms: a device connected on its own
(`carehub/v1/devices/{{device_id}}/...`), a gateway about itself
(`carehub/v1/gateways/{{gateway_id}}/...`) and a gateway speaking for a sub-device
registered to it (`carehub/v1/gateways/{{gateway_id}}/devices/{{sub_id}}/...`).

Identity comes from the topic and the broker credentials, never from the payload. Payloads
are UTF-8 JSON objects of at most 64 KiB. The hub refuses a message that breaks the
contract, keeps it as a dead letter and says why on the matching `errors` topic.

The vendor guide (`docs/device-contract.md`) explains connection, timing, `seq`, limits and
every error code. Contract version {CONTRACT_VERSION}: within v1, fields are only ever
added as optional; breaking changes get new `carehub/v2/...` topics."""


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of the contract, as plain data (keys in output order)."""
    schemas, top = _component_schemas()
    channels, operations = _channels_and_operations()
    will_topic = f"{_ROUTES[0].prefix}/status"
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "carehub device contract",
            "version": CONTRACT_VERSION,
            "description": _INFO_DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "mqtt.carehub.example:8883",
                "protocol": "secure-mqtt",
                "description": "Placeholder for the operator's production broker: MQTT 5 or "
                "3.1.1 over TLS. Client id = username = the device (or gateway) id. Keep "
                "the session (clean start false) and set the Last Will shown in the "
                "bindings, with the topic of your own id.",
                "security": [{"$ref": "#/components/securitySchemes/userPassword"}],
                "bindings": {
                    "mqtt": {
                        "cleanSession": False,
                        "keepAlive": 60,
                        "lastWill": {
                            "topic": will_topic,
                            "qos": 1,
                            "message": '{"state":"offline"}',
                            "retain": True,
                        },
                        "bindingVersion": _MQTT_BINDING_VERSION,
                    }
                },
            },
            "lab": {
                "host": "localhost:1883",
                "protocol": "mqtt",
                "description": "A local test broker without TLS, for development only.",
                "security": [{"$ref": "#/components/securitySchemes/userPassword"}],
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": _messages(top),
            "parameters": {
                "device_id": {
                    "description": "Id of a device connected on its own. " + _ID_RULE,
                    "examples": ["w-001"],
                },
                "gateway_id": {
                    "description": "Id of a home gateway. " + _ID_RULE,
                    "examples": ["gw-0042"],
                },
                "sub_id": {
                    "description": "Id of a sub-device registered to the gateway. " + _ID_RULE,
                    "examples": ["door-1"],
                },
            },
            "securitySchemes": {
                "userPassword": {
                    "type": "userPassword",
                    "description": "MQTT username = the device (or gateway) id; the password "
                    "is issued once by the operator when the device is provisioned.",
                }
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors/aliases for repeated objects, block style for long text."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    # short lists of scalars ([x, y, z] samples, `required`) read better inline
    flow = all(not isinstance(item, dict | list) for item in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def render_json(schema: dict[str, Any]) -> str:
    """Stable JSON text: sorted keys, 2-space indent, UTF-8 kept, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_yaml(document: dict[str, Any]) -> str:
    """YAML text of ``document`` with keys in their given order, behind a header comment."""
    body = yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    return f"# {GENERATED_NOTE}\n{body}"


def rendered() -> dict[str, str]:
    """Every generated file: name → text."""
    files = {schema_file(t): render_json(json_schema(t)) for t in MESSAGE_TYPES}
    files[ASYNCAPI_FILE] = render_yaml(asyncapi_document())
    return files


# --- files -------------------------------------------------------------------------------


def diff(out_dir: Path) -> list[str]:
    """Names of generated files that are missing from ``out_dir`` or differ from it."""
    stale = []
    for name, text in rendered().items():
        path = out_dir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_all(out_dir: Path) -> list[str]:
    """Write every generated file into ``out_dir``; return the names that changed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = diff(out_dir)
    files = rendered()
    for name in changed:
        (out_dir / name).write_text(files[name], encoding="utf-8")
    return changed
