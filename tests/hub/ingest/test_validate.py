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


# --- control characters (hub.contract.text) ----------------------------------------------


def _json(**fields: object) -> bytes:
    return json.dumps(fields).encode()  # writes control characters as \u escapes


@pytest.mark.parametrize(
    ("msg_type", "payload", "where"),
    [
        ("status", _json(state="online", firmware="2.1\u00000"), "firmware: control character U+0000 at position 3"),  # noqa: E501
        ("status", _json(state="online", capabilities=["hr", "\u001b[31m"]), "capabilities.1"),
        ("status", _json(state="online", ext={"build": "a\u0000"}), "U+0000 at position 1 in build"),  # noqa: E501
        ("status", _json(state="online", ext={"k\u0000": 1}), "in the key 'k\\x00'"),
        ("telemetry", _json(ts=NOW, seq=1, hr=70, ext={"log": ["ok", "\u0000"]}), "in log[1]"),
        ("telemetry", _json(ts=NOW, seq=1, hr=70, ext={"a": {"b": "\u0085"}}), "U+0085"),
        ("event", _json(ts=NOW, seq=1, type="sos", room="bath\troom"), "sos.room: control character U+0009"),  # noqa: E501
        ("event", _json(ts=NOW, seq=1, type="door", open=True, door="front\n"), "U+000A"),
        ("reply", _json(id="c-1", ts=NOW, status="failed", detail="no\u0000"), "detail: control"),
    ],
)  # fmt: skip
def test_control_characters_are_refused_with_their_own_code(
    msg_type: str, payload: bytes, where: str
) -> None:
    result = decode(msg_type, payload, now=NOW)
    assert isinstance(result, Refusal), result
    assert result.code == ErrorCode.CONTROL_CHARACTER
    assert where in result.detail
    assert "\x00" not in result.detail  # the detail is itself storable and printable


def test_free_text_keeps_tab_and_line_breaks_but_names_do_not() -> None:
    note = "line one\r\nline\ttwo"
    reply = decode("reply", _json(id="c-1", ts=NOW, status="failed", detail=note), now=NOW)
    assert reply.detail == note
    tel = decode("telemetry", _json(ts=NOW, seq=1, hr=70, ext={"note": note}), now=NOW)
    assert tel.ext == {"note": note}
    assert code_of("status", _json(state="online", model="X1\n")) == "control_character"
    assert code_of("status", _json(state="online", ext={"a\tb": 1})) == "control_character"


def test_unicode_text_that_is_not_control_is_kept() -> None:
    status = decode("status", _json(state="online", vendor="华为 ™", model="Ω-2\u00a0pro"), now=NOW)
    assert (status.vendor, status.model) == ("华为 ™", "Ω-2\u00a0pro")


def test_an_ext_integer_beyond_64_bits_is_refused() -> None:
    payload = _json(ts=NOW, seq=1, hr=70, ext={"serial": 10**30})
    result = decode("telemetry", payload, now=NOW)
    assert isinstance(result, Refusal)
    assert (result.code, result.detail) == (
        ErrorCode.SCHEMA_INVALID, "ext: integer beyond 64 bits in serial",
    )  # fmt: skip
    assert decode("telemetry", _json(ts=NOW, seq=1, hr=70, ext={"n": 2**63 - 1}), now=NOW).ext
