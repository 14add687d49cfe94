"""Payload models of the device contract v1 (pydantic v2).

These models are the single source of truth: the JSON Schemas and the AsyncAPI document in
``docs/contract/`` are generated from them (``carehub contract generate``), and a test fails
when the committed files differ. Models are strict (no string-to-number coercion), refuse
unknown fields (vendor additions go into ``ext``) and refuse NaN/Infinity.

Ranges are plausibility limits, not clinical thresholds: a value outside them cannot come
from a living person or a working sensor and is refused with ``value_implausible``.

>>> Telemetry.model_validate_json(b'{"ts": 1767225600, "seq": 7, "hr": 72, "spo2": 97}').hr
72.0
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hub.contract import limits
from hub.contract.codes import ErrorCode, WarningCode
from hub.contract.text import (
    FREE_TEXT_PATTERN,
    NAME_PATTERN,
    check_ext_values,
    check_free_text,
    check_name,
)

CONTRACT_VERSION = "1.0.0"


def _to_epoch(value: float | datetime) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


# RFC 3339 section 5.6 date-time. The string is parsed here because pydantic alone would
# also take "1767225600" (a number in a string) or a date without a time.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


def _parse_rfc3339(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        if not _RFC3339.match(value):
            raise ValueError(value)
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise PydanticCustomError(
            "datetime_format",
            "expected epoch seconds or an RFC 3339 date-time with an offset, "
            "e.g. 2026-03-01T08:30:00+08:00",
        ) from None


if TYPE_CHECKING:  # after validation a timestamp is always epoch seconds
    Timestamp = float
else:
    Timestamp = Annotated[
        float | Annotated[AwareDatetime, BeforeValidator(_parse_rfc3339)],
        AfterValidator(_to_epoch),
        Field(
            description="Device time: seconds since the Unix epoch (UTC), or an RFC 3339 "
            "date-time with an offset, e.g. 2026-03-01T08:30:00+08:00. The hub refuses a time "
            "before 2020-01-01 or more than 24 h ahead of its own clock (`value_implausible`).",
            examples=[1767225600.0, "2026-01-01T08:00:00+08:00"],
        ),
    ]


def _whole_number(value: object) -> object:
    """A JSON number with no fraction (``5.0``, ``5e0``) as the integer it is.

    JSON Schema calls any number with a zero fractional part an integer (draft 2020-12,
    section 6.1.1 of the validation vocabulary), so the published schemas admit ``5.0`` for
    ``seq`` and no schema keyword could tell it from ``5``; the hub takes it too, so the two
    agree. A fraction (``5.5``), a boolean or a string is still refused.

    >>> _whole_number(5.0), _whole_number(5.5), _whole_number(True)
    (5, 5.5, True)
    """
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2.0**63:
        return int(value)
    return value


Seq = Annotated[
    int,
    Field(
        ge=0,
        le=limits.MAX_SEQ,
        description="Message counter, strictly increasing per device across all its "
        "message types. Restart it only together with a new `boot` in the status message.",
    ),
    BeforeValidator(_whole_number),
]
Text = Annotated[
    str,
    Field(min_length=1, max_length=limits.MAX_TEXT, json_schema_extra={"pattern": NAME_PATTERN}),
    AfterValidator(check_name),
]
"""A name or identifier: no control characters (:mod:`hub.contract.text`)."""
FreeText = Annotated[str, AfterValidator(check_free_text)]
"""Text for a person: tab and newlines allowed, other control characters not."""
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Msg(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, allow_inf_nan=False, use_enum_values=True
    )


def _check_ext(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        # compact UTF-8 JSON: the size a vendor gets from any JSON library without spaces
        dumped = json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        raise PydanticCustomError("finite_number", "ext holds NaN or Infinity") from None
    if len(dumped.encode()) > limits.MAX_EXT_BYTES:
        raise PydanticCustomError(
            "ext_too_large", "ext is larger than {limit} bytes", {"limit": limits.MAX_EXT_BYTES}
        )
    check_ext_values(value)
    return value


Ext = Annotated[
    dict[str, Any] | None,
    AfterValidator(_check_ext),
    Field(
        description="Vendor-specific extras, stored as given: at most 2048 bytes as compact "
        "UTF-8 JSON, finite numbers only, integers within 64 bits, no control characters "
        "(U+0000–U+001F, U+007F–U+009F) in keys or in string values except tab, line feed "
        "and carriage return in values. Anything not defined by the contract belongs here, "
        "not at the top level."
    ),
]


class DeviceKind(StrEnum):
    """What a device is; decides which messages and detectors apply to it."""

    WEARABLE = "wearable"
    PENDANT = "pendant"
    GATEWAY = "gateway"
    MOTION = "motion"
    DOOR = "door"
    BED = "bed"
    TOILET = "toilet"
    SMOKE = "smoke"
    GAS = "gas"
    WATER = "water"
    ENV = "env"
    BP_MONITOR = "bp_monitor"
    GLUCOSE_METER = "glucose_meter"


class WornAt(StrEnum):
    """Where on the body a wearable is worn: decides which model judges its acceleration
    for falls (a wrist moves far more than the trunk)."""

    WRIST = "wrist"
    WAIST = "waist"
    CHEST = "chest"
    NECK = "neck"


# --- telemetry -------------------------------------------------------------------------


class Quality(_Msg):
    """Signal quality as the device judges it; readings flagged here are not alarmed on."""

    hr: Fraction | None = Field(None, description="Confidence in `hr`, 0–1.")
    spo2: Fraction | None = Field(None, description="Confidence in `spo2`, 0–1.")
    motion: bool | None = Field(None, description="The wearer was moving during the reading.")
    worn: bool | None = Field(None, description="The wearable is on the body (skin contact).")


AccSample = tuple[
    Annotated[float, Field(ge=-limits.MAX_ACC_G, le=limits.MAX_ACC_G)],
    Annotated[float, Field(ge=-limits.MAX_ACC_G, le=limits.MAX_ACC_G)],
    Annotated[float, Field(ge=-limits.MAX_ACC_G, le=limits.MAX_ACC_G)],
]


class AccBurst(_Msg):
    """A burst of 3-axis acceleration in g, evenly sampled from ``t0`` at ``hz``."""

    t0: Timestamp = Field(description="Device time of the first sample (same forms as `ts`).")
    hz: float = Field(
        ge=limits.ACC_HZ_RANGE[0],
        le=limits.ACC_HZ_RANGE[1],
        description="Sampling rate, Hz; sample i was taken at t0 + i / hz.",
    )
    g: list[AccSample] = Field(
        min_length=1,
        max_length=limits.MAX_ACC_SAMPLES,
        description="Samples [x, y, z] in g (1 g = 9.80665 m/s²), any axis orientation, "
        "each component within ±32 g; at most 2000 samples (10 s at 200 Hz).",
    )


class Telemetry(_Msg):
    """Periodic readings: topic ``carehub/v1/devices/{device_id}/telemetry``.

    At least one reading besides ``ts`` and ``seq`` is required.
    """

    ts: Timestamp
    seq: Seq
    hr: float | None = Field(None, ge=20, le=250, description="Heart rate, beats/min.")
    spo2: float | None = Field(None, ge=50, le=100, description="Oxygen saturation, %.")
    rr: float | None = Field(None, ge=3, le=70, description="Respiration rate, breaths/min.")
    temp: float | None = Field(None, ge=30, le=44, description="Body temperature, °C.")
    sbp: float | None = Field(None, ge=50, le=280, description="Systolic blood pressure, mmHg.")
    dbp: float | None = Field(None, ge=20, le=180, description="Diastolic blood pressure, mmHg.")
    glucose: float | None = Field(None, ge=0.5, le=40, description="Blood glucose, mmol/L.")
    battery: float | None = Field(None, ge=0, le=100, description="Battery charge, %.")
    rssi: float | None = Field(None, ge=-130, le=0, description="Radio signal strength, dBm.")
    room_temp: float | None = Field(None, ge=-30, le=70, description="Room temperature, °C.")
    humidity: float | None = Field(None, ge=0, le=100, description="Relative humidity, %.")
    quality: Quality | None = Field(None, description="Signal quality of this message's readings.")
    acc: AccBurst | None = Field(None, description="A burst of raw acceleration.")
    ext: Ext = None

    @model_validator(mode="after")
    def _consistent(self) -> Telemetry:  # runs per message: plain attribute checks only
        if all(getattr(self, name) is None for name in _READINGS):
            raise PydanticCustomError("empty_telemetry", "telemetry carries no reading")
        if self.sbp is not None and self.dbp is not None and self.dbp >= self.sbp:
            raise PydanticCustomError("value_implausible", "dbp must be below sbp")
        return self


_READINGS = (
    "hr", "spo2", "rr", "temp", "sbp", "dbp", "glucose", "battery", "rssi", "room_temp",
    "humidity", "acc",
)  # fmt: skip
"""Telemetry fields that count as a reading (one of them is required)."""


# --- events ----------------------------------------------------------------------------


class _Event(_Msg):
    ts: Timestamp
    seq: Seq
    room: Text | None = Field(None, description="Where in the home, e.g. `bathroom`.")
    ext: Ext = None


class SosEvent(_Event):
    """The resident pressed the SOS button."""

    type: Literal["sos"]
    press: Literal["single", "double", "long"] | None = Field(
        None, description="How the button was pressed."
    )


class FallEvent(_Event):
    """The device itself detected a fall (vendor-side detection)."""

    type: Literal["fall"]
    confidence: Fraction | None = Field(None, description="The device's confidence, 0–1.")
    impact_g: float | None = Field(None, ge=0, le=64, description="Peak |a| in g.")


class MotionEvent(_Event):
    """A PIR sensor saw movement (``active`` false: the room became still)."""

    type: Literal["motion"]
    active: bool = Field(True, description="Movement seen (true) or the room became still.")


class DoorEvent(_Event):
    """A door, cupboard or appliance contact opened or closed."""

    type: Literal["door"]
    open: bool = Field(description="The door is now open (true) or closed (false).")
    door: Text | None = Field(
        None,
        description="What the contact is on. The way out of the home: `front` (also `main`, "
        "`entrance`, `entry`, `back`, `大门`, `入户门`, `前门`, `后门`). An interior door: the "
        "room it leads to (`bedroom`, `bathroom`...). A cupboard or an appliance: what it is "
        "(`cupboard`, `fridge`...). Send it with every event: a door event without it is "
        "accepted with the warning `door_unnamed` and taken for an interior door, never for "
        "the way out.",
        examples=["front", "bedroom", "cupboard"],
    )


class BedEvent(_Event):
    """A bed sensor: the resident got into (occupied) or out of bed."""

    type: Literal["bed"]
    occupied: bool = Field(description="Someone is in bed now.")


class ToiletEvent(_Event):
    """A toilet/bathroom presence sensor changed."""

    type: Literal["toilet"]
    occupied: bool = Field(description="Someone is in the toilet/bathroom now.")


class HazardEvent(_Event):
    """Smoke, gas or water detected (``alarm`` true) or cleared (false)."""

    type: Literal["smoke", "gas", "water"]
    alarm: bool = Field(description="Hazard detected (true) or cleared (false).")


class ButtonEvent(_Event):
    """Any other button (e.g. an "I'm fine" check-in button)."""

    type: Literal["button"]
    button: Text | None = Field(None, description="Which button, e.g. `im_fine`.")
    press: Literal["single", "double", "long"] | None = Field(
        None, description="How the button was pressed."
    )


class WearEvent(_Event):
    """A wearable was put on (worn true) or taken off (false)."""

    type: Literal["wear"]
    worn: bool = Field(description="The wearable is now on the body.")


Event = Annotated[
    SosEvent
    | FallEvent
    | MotionEvent
    | DoorEvent
    | BedEvent
    | ToiletEvent
    | HazardEvent
    | ButtonEvent
    | WearEvent,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)
EVENT_TYPES: tuple[str, ...] = (
    "sos", "fall", "motion", "door", "bed", "toilet", "smoke", "gas", "water", "button", "wear",
)  # fmt: skip
ALARM_EVENT_TYPES: frozenset[str] = frozenset({"sos", "fall", "smoke", "gas", "water"})


# --- status ----------------------------------------------------------------------------


class Status(_Msg):
    """Retained presence: topic ``.../status``. ``online`` is the birth message a device
    publishes (retained) after every connect; ``offline`` is its Last Will (retained) or
    what it publishes before a clean shutdown."""

    state: Literal["online", "offline"] = Field(
        description="`online` in the birth message, `offline` in the Last Will and before a "
        "clean shutdown."
    )
    ts: Timestamp | None = Field(None, description="Device time; omit it in the Last Will.")
    boot: Annotated[int | None, BeforeValidator(_whole_number)] = Field(
        None, ge=0, le=limits.MAX_SEQ, description="Boot counter; a new value lets `seq` restart."
    )
    kind: DeviceKind | None = Field(None, description="What the device is.")
    vendor: Text | None = Field(None, description="Manufacturer.")
    model: Text | None = Field(None, description="Product model.")
    firmware: Text | None = Field(None, description="Firmware version.")
    capabilities: list[Text] | None = Field(
        None, max_length=32, description="What the device measures or does, e.g. `hr`, `acc`."
    )
    interval_s: float | None = Field(
        None, ge=1, le=86_400, description="Seconds between telemetry messages it promises."
    )
    worn_at: WornAt | None = Field(
        None,
        description="Where a wearable is worn: `wrist`, `waist` (belt clip), `chest` or `neck` "
        "(pendant on a cord). The hub judges `acc` bursts for falls with the model of that "
        "position.",
    )
    reason: Text | None = Field(None, description="Why offline, e.g. `shutdown`, `low_battery`.")
    ext: Ext = None


# --- commands and replies --------------------------------------------------------------


class _Command(_Msg):
    id: Text = Field(description="Command id; the device echoes it in its reply.")
    ts: float = Field(description="Hub time, epoch seconds.")


class NotifyCommand(_Command):
    """Tell the resident something: vibrate and/or speak ("help is coming")."""

    cmd: Literal["notify"]
    pattern: Literal["help_coming", "acknowledged", "alarm_cleared"] = Field(
        description="What to tell: `help_coming` (staff took the alarm and someone is on the "
        "way), `acknowledged` (the alarm was seen), `alarm_cleared` (the alarm is over)."
    )
    text: dict[Literal["zh-CN", "en"], Annotated[str, Field(max_length=200)]] | None = Field(
        None, description="Text to show or speak, by language; the device picks its own."
    )
    vibrate: bool = Field(True, description="Vibrate (or beep) to get attention.")
    voice: bool = Field(False, description="Speak the text, when the device can.")
    alert_id: Text | None = Field(None, description="The hub's alert this notice is about.")


class ConfigCommand(_Command):
    """Change device settings; fields left out stay as they are."""

    cmd: Literal["config"]
    interval_s: float | None = Field(
        None, ge=1, le=86_400, description="Seconds between telemetry messages."
    )
    acc_hz: float | None = Field(
        None,
        ge=limits.ACC_HZ_RANGE[0],
        le=limits.ACC_HZ_RANGE[1],
        description="Accelerometer sampling rate, Hz.",
    )
    fall_detection: bool | None = Field(
        None, description="Turn on-device fall detection on or off."
    )


class PingCommand(_Command):
    """Ask the device to reply; proves the command path works."""

    cmd: Literal["ping"]


Command = Annotated[NotifyCommand | ConfigCommand | PingCommand, Field(discriminator="cmd")]
COMMAND_ADAPTER: TypeAdapter[Any] = TypeAdapter(Command)


class Reply(_Msg):
    """A device's answer to a command: topic ``.../reply``."""

    id: Text = Field(description="The `id` of the command answered.")
    ts: Timestamp
    status: Literal["received", "done", "failed", "unsupported"] = Field(
        description="`received` (will act on it), `done`, `failed` (say why in `detail`), "
        "`unsupported` (this device cannot do it)."
    )
    detail: (
        Annotated[FreeText, Field(max_length=500, json_schema_extra={"pattern": FREE_TEXT_PATTERN})]
        | None
    ) = Field(
        None,
        description="Human-readable detail, e.g. why it failed. Tab and line breaks are "
        "allowed, other control characters are not.",
    )


# --- errors (hub -> device) ------------------------------------------------------------


class ErrorReport(_Msg):
    """Why the hub refused a message (or a warning about an accepted one): topic
    ``.../errors``."""

    code: str = Field(
        description="Machine-readable reason. Errors: "
        + ", ".join(f"`{c}`" for c in ErrorCode)
        + "; warnings: "
        + ", ".join(f"`{c}`" for c in WarningCode)
        + ". Codes may be added within v1: treat an unknown code by its `severity`."
    )
    severity: Literal["error", "warning"] = Field(
        "error",
        description="`error`: the message was refused; `warning`: accepted, but fix this.",
    )
    detail: Annotated[str, Field(max_length=500)] = Field(
        description="What was wrong, for a person to read (English)."
    )
    topic: Annotated[str, Field(max_length=300)] = Field(description="Topic of the message.")
    seq: int | None = Field(None, description="`seq` of the refused message, when readable.")
    ts: float = Field(description="Hub time of the refusal, epoch seconds.")
    dead_letter: bool = Field(True, description="The raw message was kept for inspection.")
    suppressed: int = Field(
        0,
        ge=0,
        description="Refusals with the same `code` from the same device (or gateway) since "
        "the previous report that were not reported: at most one report per code every "
        f"{limits.REPORT_INTERVAL_S:g} s.",
    )
    contract: Literal["v1"] = "v1"


MESSAGE_MODELS: dict[str, Any] = {
    "telemetry": Telemetry,
    "event": EVENT_ADAPTER,
    "status": Status,
    "reply": Reply,
    "cmd": COMMAND_ADAPTER,
    "errors": ErrorReport,
}
"""Message type (last topic level) → the model or adapter that validates it."""
