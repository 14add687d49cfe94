"""The error-report examples (the guide's and the AsyncAPI document's) look like what the hub
actually sends: the same fields, and ``seq`` null where the hub refuses before it reads the
payload."""

from __future__ import annotations

import json
from typing import Any

from hub.contract.examples import EXAMPLES
from hub.ingest.core import Ingest
from hub.store.base import Device
from tests.helpers.messages import NOW, Msg
from tests.hub.contract.test_contract_docs import FENCE, GUIDE

BEFORE_THE_PAYLOAD = {"topic_invalid", "unknown_device", "not_on_gateway", "rate_limited"}
"""Refusals decided from the topic alone: the hub has not read ``seq``."""


def sent(topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    ingest = Ingest(clock=lambda: NOW)
    ingest.set_devices([Device("gw-0042", "gateway"), Device("door-9", "door", gateway_id="gw-7")])
    ingest.handle(Msg(topic, json.dumps(payload).encode()))
    [out] = ingest.take().outbox
    report: dict[str, Any] = json.loads(out.payload)
    return report


def examples() -> list[dict[str, Any]]:
    guide = GUIDE.read_text(encoding="utf-8")
    found = [json.loads(b["body"]) for b in FENCE.finditer(guide) if b["tag"].strip() == "errors"]
    return found + [e.payload for e in EXAMPLES["errors"]]


def test_not_on_gateway_is_sent_with_a_null_seq() -> None:
    body = {"ts": NOW, "seq": 17, "type": "door", "open": True, "door": "front"}
    report = sent("carehub/v1/gateways/gw-0042/devices/door-9/event", body)
    assert report["code"] == "not_on_gateway" and report["seq"] is None


def test_examples_have_the_fields_the_hub_sends() -> None:
    real = sent("carehub/v1/gateways/gw-0042/devices/door-9/event", {"seq": 1})
    for example in examples():
        assert set(example) == set(real), example["code"]
        if example["code"] in BEFORE_THE_PAYLOAD:
            assert example["seq"] is None, example["code"]
