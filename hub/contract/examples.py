"""Example payloads of the device contract v1, one set per message type.

They are published in ``docs/contract/v1/asyncapi.yaml`` (see :mod:`hub.contract.generate`)
and a test validates every one against its model, so they cannot drift from the contract.
Times are around 2026-01-01T00:00:00Z (epoch 1767225600).

>>> sorted(EXAMPLES)
['cmd', 'errors', 'event', 'reply', 'status', 'telemetry']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class Example:
    """One named example payload."""

    name: str
    summary: str
    payload: dict[str, Any]


T0: Final = 1767225600

_TELEMETRY = (
    Example(
        "wearable_vitals",
        "A wristband's periodic vitals with signal quality",
        {
            "ts": T0,
            "seq": 1042,
            "hr": 72,
            "spo2": 97,
            "rr": 16,
            "temp": 36.6,
            "battery": 81,
            "rssi": -67,
            "quality": {"hr": 0.95, "spo2": 0.9, "motion": False, "worn": True},
        },
    ),
    Example(
        "acc_burst",
        "A short accelerometer burst around an impact (50 Hz, samples in g)",
        {
            "ts": T0 + 5,
            "seq": 1043,
            "acc": {
                "t0": T0 + 4.9,
                "hz": 50,
                "g": [
                    [0.02, -0.98, 0.11],
                    [0.03, -0.97, 0.12],
                    [2.85, -3.1, 1.42],
                    [0.35, -0.2, 0.95],
                    [0.01, 0.02, 1.01],
                ],
            },
        },
    ),
    Example(
        "blood_pressure",
        "A blood-pressure monitor reading, time in RFC 3339 with an offset",
        {"ts": "2026-01-01T08:30:00+08:00", "seq": 57, "sbp": 132, "dbp": 84, "hr": 68},
    ),
    Example(
        "glucose",
        "A glucose meter reading in mmol/L (mg/dL ÷ 18.016), with a vendor extra",
        {"ts": "2026-01-01T07:15:00+08:00", "seq": 12, "glucose": 6.2, "ext": {"meal": "fasting"}},
    ),
    Example(
        "room_climate",
        "An environment sensor behind a gateway",
        {"ts": T0, "seq": 3301, "room_temp": 22.5, "humidity": 48, "battery": 90},
    ),
)

_EVENT = (
    Example(
        "sos", "The SOS button was held", {"ts": T0, "seq": 1044, "type": "sos", "press": "long"}
    ),
    Example(
        "fall",
        "The wearable detected a fall itself",
        {"ts": T0 + 5, "seq": 1045, "type": "fall", "confidence": 0.87, "impact_g": 3.4},
    ),
    Example(
        "motion",
        "A PIR sensor saw movement",
        {"ts": T0, "seq": 880, "type": "motion", "active": True, "room": "kitchen"},
    ),
    Example(
        "door",
        "The front door opened",
        {"ts": T0, "seq": 881, "type": "door", "open": True, "door": "front"},
    ),
    Example(
        "bed",
        "The resident got out of bed",
        {"ts": T0, "seq": 77, "type": "bed", "occupied": False},
    ),
    Example(
        "toilet",
        "Someone entered the bathroom",
        {"ts": T0, "seq": 78, "type": "toilet", "occupied": True, "room": "bathroom"},
    ),
    Example("smoke", "Smoke detected", {"ts": T0, "seq": 12, "type": "smoke", "alarm": True}),
    Example(
        "gas",
        "Gas alarm cleared",
        {"ts": T0, "seq": 13, "type": "gas", "alarm": False, "room": "kitchen"},
    ),
    Example("water", "Water leak detected", {"ts": T0, "seq": 14, "type": "water", "alarm": True}),
    Example(
        "button",
        'The "I\'m fine" check-in button',
        {"ts": T0, "seq": 15, "type": "button", "button": "im_fine", "press": "single"},
    ),
    Example(
        "wear",
        "The wristband was taken off",
        {"ts": T0, "seq": 1046, "type": "wear", "worn": False},
    ),
)

_STATUS = (
    Example(
        "birth",
        "Birth message, published retained after every connect",
        {
            "state": "online",
            "ts": T0,
            "boot": 17,
            "kind": "wearable",
            "vendor": "Acme Health",
            "model": "AW-2",
            "firmware": "2.4.1",
            "capabilities": ["hr", "spo2", "temp", "acc", "sos", "fall"],
            "interval_s": 60,
        },
    ),
    Example("last_will", "The Last Will, set at connect (retained, QoS 1)", {"state": "offline"}),
    Example(
        "shutdown",
        "Published retained before a clean disconnect",
        {"state": "offline", "ts": T0 + 3600, "reason": "shutdown"},
    ),
)

_REPLY = (
    Example(
        "received", "The command arrived", {"id": "c-8f2a", "ts": T0 + 61, "status": "received"}
    ),
    Example(
        "done", "The command was carried out", {"id": "c-8f2a", "ts": T0 + 62, "status": "done"}
    ),
    Example(
        "unsupported",
        "The device cannot do this",
        {"id": "c-8f2b", "ts": T0 + 62, "status": "unsupported", "detail": "no speaker"},
    ),
)

_CMD = (
    Example(
        "notify_help_coming",
        "Staff acknowledged the SOS: tell the resident help is coming",
        {
            "id": "c-8f2a",
            "ts": T0 + 60,
            "cmd": "notify",
            "pattern": "help_coming",
            "text": {"zh-CN": "工作人员已收到，正在赶来。", "en": "Help is on the way."},
            "vibrate": True,
            "voice": True,
            "alert_id": "a-20260101-0042",
        },
    ),
    Example(
        "config",
        "Change the telemetry interval and the accelerometer rate",
        {"id": "c-8f2c", "ts": T0 + 60, "cmd": "config", "interval_s": 30, "acc_hz": 50},
    ),
    Example("ping", "Prove the command path works", {"id": "c-8f2d", "ts": T0 + 60, "cmd": "ping"}),
)

_ERRORS = (
    Example(
        "schema_invalid",
        "A number sent as a string",
        {
            "code": "schema_invalid",
            "severity": "error",
            "detail": "hr: Input should be a valid number (got '72')",
            "topic": "carehub/v1/devices/w-001/telemetry",
            "seq": 1042,
            "ts": T0 + 1,
            "dead_letter": True,
            "suppressed": 0,
            "contract": "v1",
        },
    ),
    Example(
        "value_implausible",
        "A heart rate no living person has",
        {
            "code": "value_implausible",
            "severity": "error",
            "detail": "hr: Input should be less than or equal to 250 (got 300.0)",
            "topic": "carehub/v1/devices/w-001/telemetry",
            "seq": 1047,
            "ts": T0 + 1,
            "dead_letter": True,
            "suppressed": 0,
            "contract": "v1",
        },
    ),
    Example(
        "not_on_gateway",
        "A gateway spoke for a sub-device registered elsewhere",
        {
            "code": "not_on_gateway",
            "severity": "error",
            "detail": "device door-9 is not registered to gateway gw-0042",
            "topic": "carehub/v1/gateways/gw-0042/devices/door-9/event",
            "seq": None,
            "ts": T0 + 1,
            "dead_letter": True,
            "suppressed": 0,
            "contract": "v1",
        },
    ),
    Example(
        "clock_skew",
        "A warning: the message was accepted but the device clock is off",
        {
            "code": "clock_skew",
            "severity": "warning",
            "detail": "device clock is about 315 s behind the hub; sync it (NTP)",
            "topic": "carehub/v1/devices/w-001/telemetry",
            "seq": 1048,
            "ts": T0 + 1,
            "dead_letter": False,
            "suppressed": 0,
            "contract": "v1",
        },
    ),
)

EXAMPLES: Final[dict[str, tuple[Example, ...]]] = {
    "telemetry": _TELEMETRY,
    "event": _EVENT,
    "status": _STATUS,
    "reply": _REPLY,
    "cmd": _CMD,
    "errors": _ERRORS,
}
"""Message type → its examples, in the order they are published."""
