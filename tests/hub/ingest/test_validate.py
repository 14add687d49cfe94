"""Decoding maps every kind of malformed payload to the right reason code."""

from __future__ import annotations

import json

import pytest

from hub.contract.codes import ErrorCode
from hub.contract.models import SosEvent, Status, Telemetry
from hub.ingest.validate import Refusal, decode

NOW = 1_767_225_600.0


def code_of(msg_type: str, payload: bytes) -> str:
    result = decode(msg_type, payload, now=NOW)
    assert isinstance(result, Refusal), result
    assert result.detail
    return str(result.code)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", ErrorCode.JSON_INVALID),
        (b'{"ts": 1767225600, "seq": 1, "hr": 70', ErrorCode.JSON_INVALID),
        (b'{"ts": 1767225600, "seq": 1, "hr": NaN}', ErrorCode.JSON_INVALID),
        (b'{"ts": 1767225600, "seq": 1, "hr": Infinity}', ErrorCode.JSON_INVALID),
        (b'{"ts": 1767225600, "seq": 1, "hr": 1e999}', ErrorCode.VALUE_IMPLAUSIBLE),
        (b"[" * 10_000 + b"]" * 10_000, ErrorCode.JSON_INVALID),
        (b"\xff\xfe{}", ErrorCode.ENCODING_INVALID),
        (b"[1, 2]", ErrorCode.SCHEMA_INVALID),
        (b'{"ts": 1767225600, "seq": 1}', ErrorCode.SCHEMA_INVALID),
        (b'{"ts": 1767225600, "seq": "1", "hr": 70}', ErrorCode.SCHEMA_INVALID),
        (b'{"ts": 1767225600, "seq": -1, "hr": 70}', ErrorCode.VALUE_IMPLAUSIBLE),
        (b'{"ts": 1767225600, "seq": 1, "hr": 70, "device_id": "x"}', ErrorCode.SCHEMA_INVALID),
        (b'{"ts": 1767225600, "seq": 1, "sbp": 80, "dbp": 90}', ErrorCode.VALUE_IMPLAUSIBLE),
        (b'{"ts": 1000, "seq": 1, "hr": 70}', ErrorCode.VALUE_IMPLAUSIBLE),
        (b'{"ts": 1867225600, "seq": 1, "hr": 70}', ErrorCode.VALUE_IMPLAUSIBLE),
        (b"x" * 70_000, ErrorCode.PAYLOAD_TOO_LARGE),
    ],
)
def test_telemetry_refusals(payload: bytes, code: str) -> None:
    assert code_of("telemetry", payload) == code


def test_refusal_carries_seq_when_readable() -> None:
    result = decode("telemetry", b'{"ts": 1767225600, "seq": 9, "hr": 400}', now=NOW)
    assert isinstance(result, Refusal)
    assert result.seq == 9
    assert "hr" in result.detail


def test_acc_burst_with_too_many_samples_is_refused() -> None:
    burst = {"t0": NOW, "hz": 50, "g": [[0, 0, 1]] * 2001}
    payload = json.dumps({"ts": NOW, "seq": 1, "acc": burst}).encode()
    assert code_of("telemetry", payload) == ErrorCode.SCHEMA_INVALID


def test_valid_messages_decode_to_models() -> None:
    tel = decode("telemetry", b'{"ts": "2026-01-01T08:00:00+08:00", "seq": 1, "hr": 70}', now=NOW)
    assert isinstance(tel, Telemetry) and tel.ts == NOW
    ev = decode("event", b'{"ts": 1767225600, "seq": 2, "type": "sos"}', now=NOW)
    assert isinstance(ev, SosEvent)
    st = decode("status", b'{"state": "offline"}', now=NOW)
    assert isinstance(st, Status) and st.ts is None
