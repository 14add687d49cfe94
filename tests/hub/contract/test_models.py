"""Unit tests of the contract v1 payload models and topic layout.

The ranges below are the published contract (docs/device-contract.md), written out here on
purpose: changing a range in the models must be a deliberate change of this table too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from hub.contract import limits
from hub.contract.models import (
    COMMAND_ADAPTER,
    EVENT_ADAPTER,
    EVENT_TYPES,
    MESSAGE_MODELS,
    ConfigCommand,
    ErrorReport,
    NotifyCommand,
    PingCommand,
    Reply,
    Status,
)
from hub.contract.topics import (
    Topic,
    device_topic,
    errors_topic_for,
    is_outbound,
    parse_topic,
    subscriptions,
)

T0 = 1767225600  # 2026-01-01T00:00:00Z


def validate(msg_type: str, payload: dict[str, Any] | str) -> Any:
    """Validate as the hub does: from the JSON bytes, not from Python objects."""
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    model = MESSAGE_MODELS[msg_type]
    if isinstance(model, type):
        return model.model_validate_json(raw)
    return model.validate_json(raw)


def error_types(msg_type: str, payload: dict[str, Any] | str) -> set[str]:
    with pytest.raises(ValidationError) as info:
        validate(msg_type, payload)
    return {e["type"] for e in info.value.errors()}


def tele(**fields: Any) -> dict[str, Any]:
    return {"ts": T0, "seq": 1, **fields}


# --- telemetry ranges --------------------------------------------------------------------

RANGES = [
    ("hr", 20, 250),
    ("spo2", 50, 100),
    ("rr", 3, 70),
    ("temp", 30, 44),
    ("sbp", 50, 280),
    ("dbp", 20, 180),
    ("glucose", 0.5, 40),
    ("battery", 0, 100),
    ("rssi", -130, 0),
    ("room_temp", -30, 70),
    ("humidity", 0, 100),
]


@pytest.mark.parametrize(("field", "low", "high"), RANGES)
def test_range_edges_are_accepted(field: str, low: float, high: float) -> None:
    assert getattr(validate("telemetry", tele(**{field: low})), field) == low
    assert getattr(validate("telemetry", tele(**{field: high})), field) == high


@pytest.mark.parametrize(("field", "low", "high"), RANGES)
def test_just_outside_a_range_is_refused(field: str, low: float, high: float) -> None:
    assert error_types("telemetry", tele(**{field: round(low - 0.1, 3)})) == {"greater_than_equal"}
    assert error_types("telemetry", tele(**{field: round(high + 0.1, 3)})) == {"less_than_equal"}


def test_quality_confidence_is_a_fraction() -> None:
    ok = validate("telemetry", tele(hr=70, quality={"hr": 1.0, "spo2": 0.0}))
    assert ok.quality.hr == 1.0
    assert error_types("telemetry", tele(hr=70, quality={"hr": 1.01})) == {"less_than_equal"}


# --- strictness --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (tele(hr="72"), "float_type"),
        (tele(hr=True), "float_type"),
        ({"ts": T0, "seq": "7", "hr": 70}, "int_type"),
        ({"ts": T0, "seq": 7.5, "hr": 70}, "int_type"),
        (tele(quality={"motion": "false"}, hr=70), "bool_type"),
    ],
)
def test_no_coercion_from_strings_or_floats(payload: dict[str, Any], expected: str) -> None:
    # a whole number written as 7.0 is JSON Schema's integer too: see tests/hub/contract/
    # test_integers.py
    assert expected in error_types("telemetry", payload)


def test_number_in_a_string_is_not_a_timestamp() -> None:
    assert error_types("telemetry", {"ts": str(T0), "seq": 1, "hr": 70}) == {
        "float_type",
        "datetime_format",
    }


def test_nan_and_infinity_are_refused() -> None:
    assert "finite_number" in error_types("telemetry", '{"ts": 1767225600, "seq": 1, "hr": NaN}')
    assert "finite_number" in error_types(
        "telemetry", '{"ts": 1767225600, "seq": 1, "hr": 70, "ext": {"x": Infinity}}'
    )


@pytest.mark.parametrize(
    "payload",
    [
        tele(hr=70, heart_rate=70),
        tele(hr=70, quality={"hr": 0.9, "snr": 3}),
        tele(acc={"t0": T0, "hz": 50, "g": [[0, 0, 1]], "axis": "xyz"}),
        {"ts": T0, "seq": 1, "hr": 70, "device_id": "w-001"},
    ],
)
def test_unknown_fields_are_refused(payload: dict[str, Any]) -> None:
    assert error_types("telemetry", payload) == {"extra_forbidden"}


@pytest.mark.parametrize("msg_type", ["event", "status", "reply", "cmd", "errors"])
def test_unknown_fields_are_refused_in_every_message_type(msg_type: str) -> None:
    from hub.contract.examples import EXAMPLES

    payload = {**EXAMPLES[msg_type][0].payload, "vendor_field": 1}
    assert "extra_forbidden" in error_types(msg_type, payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"ts": T0, "seq": 1},
        tele(quality={"worn": True}),
        tele(ext={"note": "hello"}),
        tele(hr=None),
    ],
)
def test_telemetry_without_a_reading_is_refused(payload: dict[str, Any]) -> None:
    assert error_types("telemetry", payload) == {"empty_telemetry"}


def test_missing_ts_or_seq_is_refused() -> None:
    assert error_types("telemetry", {"seq": 1, "hr": 70}) == {"missing"}
    assert error_types("telemetry", {"ts": T0, "hr": 70}) == {"missing"}


@pytest.mark.parametrize(("sbp", "dbp"), [(120, 120), (90, 120)])
def test_systolic_must_exceed_diastolic(sbp: int, dbp: int) -> None:
    assert error_types("telemetry", tele(sbp=sbp, dbp=dbp)) == {"value_implausible"}


def test_systolic_above_diastolic_is_accepted() -> None:
    msg = validate("telemetry", tele(sbp=120, dbp=119.5))
    assert (msg.sbp, msg.dbp) == (120, 119.5)


def test_seq_bounds() -> None:
    assert validate("telemetry", {"ts": T0, "seq": 0, "hr": 70}).seq == 0
    assert validate("telemetry", {"ts": T0, "seq": limits.MAX_SEQ, "hr": 70}).seq == limits.MAX_SEQ
    assert error_types("telemetry", {"ts": T0, "seq": -1, "hr": 70}) == {"greater_than_equal"}
    assert error_types("telemetry", {"ts": T0, "seq": limits.MAX_SEQ + 1, "hr": 70}) == {
        "less_than_equal"
    }


# --- time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "epoch"),
    [
        ("2026-01-01T08:00:00+08:00", T0),
        ("2026-01-01T00:00:00Z", T0),
        ("2025-12-31T19:00:00-05:00", T0),
        ("2026-01-01t00:00:00z", T0),
        ("2026-01-01T00:00:00.250Z", T0 + 0.25),
        (T0, T0),
        (T0 + 0.5, T0 + 0.5),
    ],
)
def test_rfc3339_and_epoch_give_the_same_time(ts: str | float, epoch: float) -> None:
    assert validate("telemetry", {"ts": ts, "seq": 1, "hr": 70}).ts == epoch
    assert validate("event", {"ts": ts, "seq": 1, "type": "sos"}).ts == epoch


@pytest.mark.parametrize(
    "ts",
    [
        "2026-01-01T08:00:00",  # no offset: ambiguous
        "2026-01-01",  # no time
        "2026-01-01 08:00:00+08:00",  # space instead of T
        "2026-02-30T08:00:00Z",  # no such day
        "yesterday",
        True,
        None,
    ],
)
def test_bad_timestamps_are_refused(ts: Any) -> None:
    assert error_types("telemetry", {"ts": ts, "seq": 1, "hr": 70})


# --- accelerometer -----------------------------------------------------------------------


def acc(hz: float = 50, n: int = 1, sample: list[float] | None = None) -> dict[str, Any]:
    return tele(acc={"t0": T0, "hz": hz, "g": [sample or [0.0, 0.0, 1.0]] * n})


def test_acc_burst_limits() -> None:
    assert len(validate("telemetry", acc(n=limits.MAX_ACC_SAMPLES)).acc.g) == 2000
    assert error_types("telemetry", acc(n=limits.MAX_ACC_SAMPLES + 1)) == {"too_long"}
    assert error_types("telemetry", acc(n=0)) == {"too_short"}
    assert validate("telemetry", acc(hz=20)).acc.hz == 20
    assert validate("telemetry", acc(hz=200)).acc.hz == 200
    assert error_types("telemetry", acc(hz=19.9)) == {"greater_than_equal"}
    assert error_types("telemetry", acc(hz=200.1)) == {"less_than_equal"}


def test_acc_sample_shape_and_range() -> None:
    assert validate("telemetry", acc(sample=[32.0, -32.0, 0.0])).acc.g == [(32.0, -32.0, 0.0)]
    assert error_types("telemetry", acc(sample=[32.1, 0.0, 0.0])) == {"less_than_equal"}
    assert error_types("telemetry", acc(sample=[0.0, 1.0])) == {"missing"}
    assert error_types("telemetry", acc(sample=[0.0, 1.0, 0.0, 0.0])) == {"too_long"}


def test_acc_t0_takes_both_time_forms() -> None:
    payload = tele(acc={"t0": "2026-01-01T08:00:00+08:00", "hz": 50, "g": [[0, 0, 1]]})
    assert validate("telemetry", payload).acc.t0 == T0


# --- ext ---------------------------------------------------------------------------------


def test_ext_size_limit_is_compact_utf8_bytes() -> None:
    # {"k":"..."} is 8 bytes around the value
    fits = "x" * (limits.MAX_EXT_BYTES - 8)
    assert validate("telemetry", tele(hr=70, ext={"k": fits})).ext == {"k": fits}
    assert error_types("telemetry", tele(hr=70, ext={"k": fits + "x"})) == {"ext_too_large"}
    two_byte = "é" * ((limits.MAX_EXT_BYTES - 8) // 2 + 1)
    assert error_types("telemetry", tele(hr=70, ext={"k": two_byte})) == {"ext_too_large"}


# --- events ------------------------------------------------------------------------------

EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "sos": {"press": "double"},
    "fall": {"confidence": 0.8, "impact_g": 4.2},
    "motion": {"active": False},
    "door": {"open": True, "door": "front"},
    "bed": {"occupied": True},
    "toilet": {"occupied": False},
    "smoke": {"alarm": True},
    "gas": {"alarm": True},
    "water": {"alarm": False},
    "button": {"button": "im_fine", "press": "single"},
    "wear": {"worn": True},
}


def test_event_table_covers_every_event_type() -> None:
    assert set(EVENT_FIELDS) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_is_accepted(event_type: str) -> None:
    fields = EVENT_FIELDS[event_type]
    msg = validate("event", {"ts": T0, "seq": 5, "type": event_type, "room": "hall", **fields})
    assert msg.type == event_type
    assert msg.room == "hall"
    for name, value in fields.items():
        assert getattr(msg, name) == value


@pytest.mark.parametrize("event_type", [t for t, f in EVENT_FIELDS.items() if "occupied" in f])
def test_event_required_fields(event_type: str) -> None:
    assert error_types("event", {"ts": T0, "seq": 5, "type": event_type}) == {"missing"}


def test_event_type_decides() -> None:
    assert error_types("event", {"ts": T0, "seq": 5, "type": "earthquake"}) == {"union_tag_invalid"}
    assert error_types("event", {"ts": T0, "seq": 5}) == {"union_tag_not_found"}
    # a field of another event type is unknown here
    assert error_types("event", {"ts": T0, "seq": 5, "type": "sos", "open": True}) == {
        "extra_forbidden"
    }
    assert validate("event", {"ts": T0, "seq": 5, "type": "motion"}).active is True


def test_event_text_limits() -> None:
    assert error_types("event", {"ts": T0, "seq": 5, "type": "sos", "room": ""}) == {
        "string_too_short"
    }
    long_room = "r" * (limits.MAX_TEXT + 1)
    assert error_types("event", {"ts": T0, "seq": 5, "type": "sos", "room": long_room}) == {
        "string_too_long"
    }


# --- status ------------------------------------------------------------------------------


def test_last_will_and_birth() -> None:
    will = validate("status", {"state": "offline"})
    assert isinstance(will, Status)
    assert (will.state, will.ts, will.boot) == ("offline", None, None)
    birth = validate(
        "status",
        {"state": "online", "ts": T0, "boot": 3, "kind": "gateway", "capabilities": ["door"]},
    )
    assert (birth.state, birth.boot, birth.kind) == ("online", 3, "gateway")
    shutdown = validate("status", {"state": "offline", "ts": T0, "reason": "shutdown"})
    assert shutdown.reason == "shutdown"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"state": "sleeping"}, "literal_error"),
        ({"state": "online", "boot": -1}, "greater_than_equal"),
        ({"state": "online", "kind": "toaster"}, "enum"),
        ({"state": "online", "capabilities": ["hr"] * 33}, "too_long"),
        ({"state": "online", "interval_s": 0.5}, "greater_than_equal"),
        ({}, "missing"),
    ],
)
def test_bad_status_is_refused(payload: dict[str, Any], expected: str) -> None:
    assert expected in error_types("status", payload)


# --- commands, replies, error reports ----------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "cls"),
    [
        ({"id": "c1", "ts": T0, "cmd": "notify", "pattern": "help_coming"}, NotifyCommand),
        ({"id": "c2", "ts": T0, "cmd": "config", "interval_s": 30}, ConfigCommand),
        ({"id": "c3", "ts": T0, "cmd": "ping"}, PingCommand),
    ],
)
def test_command_discriminator(payload: dict[str, Any], cls: type) -> None:
    cmd = COMMAND_ADAPTER.validate_json(json.dumps(payload))
    assert type(cmd) is cls
    assert cmd.id == payload["id"]


def test_command_refusals() -> None:
    assert error_types("cmd", {"id": "c1", "ts": T0, "cmd": "reboot"}) == {"union_tag_invalid"}
    assert error_types("cmd", {"id": "c1", "ts": T0, "cmd": "ping", "pattern": "x"}) == {
        "extra_forbidden"
    }
    bad_lang = {"id": "c", "ts": T0, "cmd": "notify", "pattern": "help_coming", "text": {"fr": "x"}}
    assert error_types("cmd", bad_lang) == {"literal_error"}
    notify = COMMAND_ADAPTER.validate_json(
        json.dumps({"id": "c", "ts": T0, "cmd": "notify", "pattern": "acknowledged"})
    )
    assert (notify.vibrate, notify.voice) == (True, False)


@pytest.mark.parametrize("status", ["received", "done", "failed", "unsupported"])
def test_reply_statuses(status: str) -> None:
    reply = validate("reply", {"id": "c1", "ts": "2026-01-01T00:00:01Z", "status": status})
    assert isinstance(reply, Reply)
    assert (reply.status, reply.ts) == (status, T0 + 1)


def test_reply_refusals() -> None:
    assert error_types("reply", {"id": "c1", "ts": T0, "status": "ok"}) == {"literal_error"}
    assert error_types("reply", {"ts": T0, "status": "done"}) == {"missing"}


def test_error_report_defaults() -> None:
    minimal = {"code": "json_invalid", "detail": "x", "topic": "carehub/v1/devices/a/b", "ts": 1}
    report = validate("errors", minimal)
    assert isinstance(report, ErrorReport)
    assert (report.severity, report.dead_letter, report.contract, report.seq) == (
        "error",
        True,
        "v1",
        None,
    )


def test_event_adapter_is_the_event_model() -> None:
    assert MESSAGE_MODELS["event"] is EVENT_ADAPTER


# --- topics ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("carehub/v1/devices/w-001/telemetry", Topic("w-001", "telemetry", None)),
        ("carehub/v1/devices/w-001/reply", Topic("w-001", "reply", None)),
        ("carehub/v1/gateways/gw-9/status", Topic("gw-9", "status", "gw-9")),
        ("carehub/v1/gateways/gw-9/devices/door-1/event", Topic("door-1", "event", "gw-9")),
        ("carehub/v1/devices/A1_b.c:d-e/status", Topic("A1_b.c:d-e", "status", None)),
        ("carehub/v1/devices/" + "x" * 64 + "/event", Topic("x" * 64, "event", None)),
    ],
)
def test_parse_valid_topics(topic: str, expected: Topic) -> None:
    assert parse_topic(topic) == expected


@pytest.mark.parametrize(
    "topic",
    [
        "carehub/v1/devices/w-001/telemtry",  # unknown type
        "carehub/v1/devices/w-001/cmd",  # hub -> device, not inbound
        "carehub/v1/devices/w-001/errors",
        "carehub/v2/devices/w-001/telemetry",  # other version
        "care/v1/devices/w-001/telemetry",
        "carehub/v1/devices/-w/telemetry",  # id must start with a letter or digit
        "carehub/v1/devices/" + "x" * 65 + "/telemetry",  # id too long
        "carehub/v1/devices/w 1/telemetry",
        "carehub/v1/devices//telemetry",
        "carehub/v1/devices/w-001",  # too short
        "carehub/v1/devices/w-001/telemetry/extra",  # too deep
        "carehub/v1/gateways/gw-9/sensors/door-1/event",  # wrong level name
        "carehub/v1/gateways/gw-9/devices/door-1",
        "carehub/v1/gateways/gw-9/devices/door-1/event/x",
        "carehub/v1/gateways/-gw/devices/door-1/event",  # bad gateway id
        "carehub/v1/things/w-001/telemetry",
        "",
    ],
)
def test_parse_invalid_topics(topic: str) -> None:
    assert parse_topic(topic) is None


def test_device_topic_forms_round_trip() -> None:
    assert device_topic("w-001", "cmd") == "carehub/v1/devices/w-001/cmd"
    assert device_topic("gw-9", "status", gateway_id="gw-9") == "carehub/v1/gateways/gw-9/status"
    sub = device_topic("door-1", "event", gateway_id="gw-9")
    assert sub == "carehub/v1/gateways/gw-9/devices/door-1/event"
    for topic in (device_topic("w-001", "telemetry"), sub, device_topic("gw-9", "reply", "gw-9")):
        parsed = parse_topic(topic)
        assert parsed is not None
        assert device_topic(parsed.device_id, parsed.msg_type, parsed.gateway_id) == topic


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("carehub/v1/devices/w-001/telemetry", "carehub/v1/devices/w-001/errors"),
        ("carehub/v1/devices/w-001/telemtry", "carehub/v1/devices/w-001/errors"),
        ("carehub/v1/devices/w-001/a/b/c", "carehub/v1/devices/w-001/errors"),
        ("carehub/v1/gateways/gw-9/event", "carehub/v1/gateways/gw-9/errors"),
        (
            "carehub/v1/gateways/gw-9/devices/door-1/event",
            "carehub/v1/gateways/gw-9/devices/door-1/errors",
        ),
        # a sub-device id that is not valid: the gateway itself is told
        ("carehub/v1/gateways/gw-9/devices/-bad/event", "carehub/v1/gateways/gw-9/errors"),
        ("carehub/v1/devices/-bad/telemetry", None),
        ("carehub/v2/devices/w-001/telemetry", None),
        ("carehub/v1/devices", None),
        ("other/topic", None),
    ],
)
def test_errors_topic_for(topic: str, expected: str | None) -> None:
    assert errors_topic_for(topic) == expected


def test_outbound_topics_and_subscriptions() -> None:
    assert is_outbound("carehub/v1/devices/w-001/cmd")
    assert is_outbound("carehub/v1/gateways/gw-9/devices/door-1/errors")
    assert not is_outbound("carehub/v1/devices/w-001/telemetry")
    assert subscriptions() == [("carehub/v1/devices/#", 1), ("carehub/v1/gateways/#", 1)]
