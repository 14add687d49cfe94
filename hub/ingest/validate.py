"""Decode and validate one device message: pure, no I/O.

``decode(msg_type, payload, now=...)`` returns the validated model, or a :class:`Refusal`
with a machine-readable code from :class:`hub.contract.codes.ErrorCode` and a detail a
vendor's engineer can act on.

>>> str(decode("telemetry", b'{"ts": 1767225600, "seq": 1, "hr": 300}', now=1767225601).code)
'value_implausible'
>>> decode("telemetry", b'{"ts": 1767225600, "seq": 1, "hr": 71}', now=1767225601).hr
71.0
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hub.contract import limits
from hub.contract.codes import ErrorCode
from hub.contract.models import MESSAGE_MODELS, Telemetry

# pydantic error types that mean "a value out of range", not "a malformed message"
_RANGE_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
        "value_implausible",
    }
)
_MAX_DETAIL_ERRORS = 3


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a message was refused; ``seq`` when it could be read from the payload."""

    code: str
    detail: str
    seq: int | None = None


def decode(msg_type: str, payload: bytes, *, now: float) -> Any:
    """Validate ``payload`` as a ``msg_type`` message ("telemetry", "event", "status",
    "reply"); return the model instance or a :class:`Refusal`."""
    if len(payload) > limits.MAX_PAYLOAD_BYTES:
        return Refusal(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"payload is {len(payload)} bytes; the limit is {limits.MAX_PAYLOAD_BYTES}",
        )
    model = MESSAGE_MODELS[msg_type]
    try:
        if isinstance(model, TypeAdapter):
            msg = model.validate_json(payload)
        else:
            msg = model.model_validate_json(payload)
    except ValidationError as exc:
        # The JSON parser checks UTF-8 itself; only a failed message pays for telling a
        # wrong encoding apart from broken JSON.
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as bad:
            detail = f"payload is not UTF-8: {bad.reason} at byte {bad.start}"
            return Refusal(ErrorCode.ENCODING_INVALID, detail)
        return _refusal_from(exc, payload)
    except RecursionError:
        return Refusal(ErrorCode.JSON_INVALID, "payload is nested too deeply")
    return _check_times(msg, now) or msg


def _check_times(msg: Any, now: float) -> Refusal | None:
    times = [("ts", getattr(msg, "ts", None))]
    if isinstance(msg, Telemetry) and msg.acc is not None:
        times.append(("acc.t0", msg.acc.t0))
    for name, ts in times:
        if ts is None:
            continue
        if ts < limits.TS_MIN:
            return Refusal(
                ErrorCode.VALUE_IMPLAUSIBLE,
                f"{name} {ts:.0f} is before 2020-01-01: the device clock is not set",
                getattr(msg, "seq", None),
            )
        if ts > now + limits.TS_MAX_AHEAD_S:
            return Refusal(
                ErrorCode.VALUE_IMPLAUSIBLE,
                f"{name} {ts:.0f} is {ts - now:.0f} s ahead of the hub clock",
                getattr(msg, "seq", None),
            )
    return None


def _refusal_from(exc: ValidationError, payload: bytes) -> Refusal:
    errors = exc.errors(include_url=False)
    types = {e["type"] for e in errors}
    if "json_invalid" in types or "json_type" in types:
        msg = next(e["msg"] for e in errors if e["type"] in ("json_invalid", "json_type"))
        return Refusal(ErrorCode.JSON_INVALID, msg)
    if "finite_number" in types and _has_non_json_literal(payload):
        return Refusal(ErrorCode.JSON_INVALID, "NaN and Infinity are not JSON", _peek_seq(payload))
    if types == {"control_character"}:
        code = ErrorCode.CONTROL_CHARACTER
    elif types <= _RANGE_ERRORS:
        code = ErrorCode.VALUE_IMPLAUSIBLE
    else:
        code = ErrorCode.SCHEMA_INVALID
    parts = []
    for e in errors[:_MAX_DETAIL_ERRORS]:
        where = ".".join(str(p) for p in e["loc"]) or "payload"
        got = e.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {repr(got)[:40]})"
        parts.append(f"{where}: {e['msg']}{shown}")
    if len(errors) > _MAX_DETAIL_ERRORS:
        parts.append(f"and {len(errors) - _MAX_DETAIL_ERRORS} more")
    return Refusal(code, "; ".join(parts), _peek_seq(payload))


def _has_non_json_literal(payload: bytes) -> bool:
    """True when the payload uses the NaN/Infinity literals Python's parsers accept."""
    return b"NaN" in payload or b"Infinity" in payload


def _peek_seq(payload: bytes) -> int | None:
    """Best-effort ``seq`` of a refused message, for the error report."""
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    seq = obj.get("seq") if isinstance(obj, dict) else None
    if isinstance(seq, float) and seq.is_integer() and 0 <= seq <= limits.MAX_SEQ:
        return int(seq)
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None
