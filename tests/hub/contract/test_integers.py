"""The published schemas and the hub agree on integers: JSON Schema's ``integer`` is any
number without a fraction, so ``5.0`` passes a schema validator and the hub takes it too."""

from __future__ import annotations

import json

import pytest

from hub.contract.generate import json_schema
from hub.ingest.validate import Refusal, decode

NOW = 1_767_225_600.0


def _schema_type(msg_type: str, field: str) -> object:
    schema = json_schema(msg_type)
    node = schema["properties"][field]
    return node.get("type") or [n.get("type") for n in node.get("anyOf", [])]


@pytest.mark.parametrize(("msg_type", "field"), [("telemetry", "seq"), ("status", "boot")])
def test_the_schema_says_integer(msg_type: str, field: str) -> None:
    assert "integer" in str(_schema_type(msg_type, field))


def test_a_whole_number_written_with_a_fraction_is_taken_as_the_integer() -> None:
    body = json.dumps({"ts": NOW, "seq": 5.0, "hr": 70}).encode()
    decoded = decode("telemetry", body, now=NOW)
    assert not isinstance(decoded, Refusal)
    assert decoded.seq == 5 and isinstance(decoded.seq, int)
    birth = decode("status", b'{"state": "online", "boot": 3.0}', now=NOW)
    assert not isinstance(birth, Refusal) and birth.boot == 3


@pytest.mark.parametrize("seq", ["5.5", "true", '"5"', "-1.0", "1e300"])
def test_what_is_not_a_whole_number_in_range_is_still_refused(seq: str) -> None:
    body = f'{{"ts": {NOW}, "seq": {seq}, "hr": 70}}'.encode()
    assert isinstance(decode("telemetry", body, now=NOW), Refusal)
