"""Machine-readable reasons the hub gives when it refuses (or warns about) a message.

The values are part of the published device contract (docs/device-contract.md): vendors
match on them, so a code is never renamed or reused for something else.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a message was refused. Every refusal is counted, kept as a dead letter and
    reported on the device's ``errors`` topic."""

    TOPIC_INVALID = "topic_invalid"
    """The topic does not match ``carehub/v1/...`` or names an unknown message type."""
    UNKNOWN_DEVICE = "unknown_device"
    """The device id is not provisioned (it is listed as seen-but-not-provisioned)."""
    NOT_ON_GATEWAY = "not_on_gateway"
    """A gateway spoke for a sub-device that is not registered to it."""
    PAYLOAD_TOO_LARGE = "payload_too_large"
    """The payload is larger than the contract's limit."""
    ENCODING_INVALID = "encoding_invalid"
    """The payload is not UTF-8."""
    JSON_INVALID = "json_invalid"
    """The payload is not one JSON object (truncated, NaN/Infinity, too deeply nested)."""
    SCHEMA_INVALID = "schema_invalid"
    """A field is missing, unknown, or of the wrong type."""
    CONTROL_CHARACTER = "control_character"
    """A text holds a control character (U+0000–U+001F, U+007F–U+009F); free text (a reply's
    ``detail``, strings inside ``ext``) may hold tab, line feed and carriage return."""
    VALUE_IMPLAUSIBLE = "value_implausible"
    """A value is outside the physiologically or physically plausible range."""
    SEQ_REUSED = "seq_reused"
    """The same ``seq`` arrived again with different content."""
    SEQ_OUT_OF_WINDOW = "seq_out_of_window"
    """``seq`` is far behind the newest one seen and cannot be checked for duplicates."""
    RATE_LIMITED = "rate_limited"
    """The device sends more messages per second than the contract allows."""
    STORE_REFUSED = "store_refused"
    """The message met the contract but the hub's database refused to keep it; it is kept as
    a dead letter and will be looked at."""
    INTERNAL_ERROR = "internal_error"
    """The hub failed on this message; it is kept as a dead letter and will be looked at."""


class WarningCode(StrEnum):
    """Problems the hub reports on the ``errors`` topic without refusing the message."""

    CLOCK_SKEW = "clock_skew"
    """The device clock differs from the hub's by more than the allowed skew."""
    DOOR_UNNAMED = "door_unnamed"
    """A ``door`` event without ``door``: the hub cannot tell the front door from an
    interior door or a cupboard, so it takes the contact for an interior one and never for
    the way out (no night-exit watch on it)."""


ALL_CODES: tuple[str, ...] = tuple(c.value for c in ErrorCode) + tuple(c.value for c in WarningCode)
