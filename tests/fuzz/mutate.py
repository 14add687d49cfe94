"""Mutations: how a valid message goes wrong, at every layer a device can get wrong.

- :func:`mutate_tree`: the JSON structure (wrong types, missing and unknown keys, deep
  nesting, huge, negative and non-finite numbers, huge strings, control characters,
  unicode, other top-level values);
- :func:`encode`: the tree as JSON text, with textual faults no encoder of a tree makes
  (lone surrogate escapes, duplicate keys, NaN literals, trailing garbage, a BOM...);
- :func:`mutate_bytes`: the bytes on the wire (flips, truncation, invalid UTF-8);
- :func:`mutate_topic`: the topic (unknown devices, wrong classes, extra levels, wildcards,
  unicode). A topic is text: the MQTT adapter refuses topic bytes that are not UTF-8
  before ingest sees them, so lone surrogates never reach it and are not made here.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

NASTY: tuple[Any, ...] = (
    None, True, False, 0, -1, -0.0, 1.5, 0.1 + 0.2, 2**31, 2**53 - 1, 2**53, 2**53 + 1,
    2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**40, -(10**40), 1e308, -1e308,
    5e-324, 1e-320, float("nan"), float("inf"), float("-inf"), "", "72", "1767225600",
    "2026-01-01T08:00:00", "2026-01-01", "2026-02-30T00:00:00Z", "2016-12-31T23:59:60Z",
    "2026-01-01t08:00:00.123456789z", "1999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59", "2026-01-01T08:00:00+24:00", "２０２６-01-01T08:00:00Z",
    "online", "sos", "\x00",
    "a\x00b", "\x01", "\t", "\n", "line\r\n", "\x7f", "\x85", "\x9f", "\u2028", "\ufeff",
    "\u202e", "\u200b", "中文", "🆘", "é", "\ufffd", "x" * 129, "x" * 501, [], {}, [[[]]],
    {"a": {}}, [1, 2, 3], {"": None}, [None],
)  # fmt: skip
"""Values that stand in for a field's value."""

KEYS = (
    "ts", "seq", "hr", "spo2", "rr", "temp", "sbp", "dbp", "glucose", "battery", "rssi",
    "room_temp", "humidity", "quality", "acc", "ext", "type", "state", "boot", "kind", "id",
    "status", "detail", "room", "device_id", "HR", "Seq", "", " ts", "\x00", "中文", "t0",
)  # fmt: skip
"""Keys to add: the contract's own (in the wrong place), near misses and strangers."""

BAD_UTF8 = (b"\xff", b"\xfe", b"\x80", b"\xc0\xaf", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80")
"""Invalid UTF-8: stray bytes, overlong, truncated, a CESU surrogate, beyond U+10FFFF."""

RAW_VALUES = (
    b"NaN", b"-Infinity", b"Infinity", b"1e999", b"-1e999", b"01", b"-0", b"1.", b".5",
    b"0x10", b"true1", b'"\\ud800"', b'"\\udfff"', b'"a\\udc00b"', b'"\\ud83d\\ude00"',
    b'"\\u0000"', b'"\\u001f"', b'"\\uZZZZ"', b'"\\x41"', b"'single'", b"undefined", b"[1,]",
    b"{,}", b"1" * 400, b"-" + b"9" * 400, b"[" * 300 + b"]" * 300, b'"' + b"\\" * 99 + b'"',
    b"[" * 20_000 + b"]" * 20_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000, b"[" * 20_000,
)  # fmt: skip
"""JSON text (or not quite) to splice in as a value."""


def nested(depth: int) -> Any:
    """``depth`` levels of lists and objects around a number."""
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


def mutate_tree(rng: random.Random, obj: Any) -> Any:
    """One structural mutation of a decoded payload (which it may change in place)."""
    r = rng.random()
    if r < 0.05 or not isinstance(obj, dict) or not obj:
        return rng.choice(([obj], "text", 42, None, [], {}, [obj, obj], nested(rng.randint(1, 64))))
    parent, key = _pick(rng, obj)
    if r < 0.45:
        parent[key] = _nasty(rng)
    elif r < 0.55:
        del parent[key]
    elif r < 0.65 and isinstance(parent, dict):
        parent[rng.choice(KEYS)] = _nasty(rng)
    elif r < 0.72:
        parent[key] = rng.choice(([parent[key]], {"v": parent[key]}, str(parent[key])))
    elif r < 0.78:
        parent[key] = nested(rng.choice((10, 100, 200, 500)))  # deeper: RAW_VALUES
    elif r < 0.82:
        parent[key] = "x" * rng.choice((128, 129, 500, 2048, 4096, 60_000))
    elif r < 0.90:
        obj["ext"] = _ext(rng)
    else:
        value = parent[key]
        if isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = rng.choice((-value, value * 1000, value + 0.5, value / 3, -1e-9))
        elif isinstance(value, str):
            i = rng.randint(0, len(value))
            control = chr(rng.choice((0, 1, 9, 10, 13, 27, 127, 133, 159)))
            parent[key] = value[:i] + control + value[i:]
    return obj


def _nasty(rng: random.Random) -> Any:
    """A copy of one of :data:`NASTY` (a later mutation may change it in place)."""
    return copy.deepcopy(rng.choice(NASTY))


def _pick(rng: random.Random, obj: dict[str, Any]) -> tuple[Any, Any]:
    """A random (container, key) inside ``obj``, nested containers included."""
    parent: Any = obj
    key: Any = rng.choice(list(obj))
    while isinstance(parent[key], dict | list) and parent[key] and rng.random() < 0.5:
        parent = parent[key]
        key = rng.choice(list(parent)) if isinstance(parent, dict) else rng.randrange(len(parent))
    return parent, key


def _ext(rng: random.Random) -> Any:
    """Vendor extras near and beyond their limits (size, integers, control characters)."""
    return rng.choice((
        {"big": 2**63 - 1, "small": -(2**63)}, {"over": 2**63}, {"under": -(2**63) - 1},
        {"x": "y" * 2030}, {"x": "y" * 2040}, {"k\x00": 1}, {"k": "tab\there"}, {"k": "v\x00"},
        {"nan": float("nan")}, {"deep": nested(50)}, {"中文键": "值", "emoji": "🆘"},
        {"list": [1.5, -0.0, 5e-324, 1e308, None, True, "s"]}, [], "ext", 1,
    ))  # fmt: skip


def encode(rng: random.Random, obj: Any, *, faulty: bool) -> bytes:
    """``obj`` as JSON (spacing and escaping vary); ``faulty``: with a textual fault."""
    compact = rng.random() < 0.5
    text = json.dumps(
        obj, allow_nan=True, ensure_ascii=rng.random() < 0.3,
        separators=(",", ":") if compact else (", ", ": "),
    ).encode("utf-8", "surrogatepass")  # fmt: skip
    return _text_fault(rng, text) if faulty else text


def _text_fault(rng: random.Random, text: bytes) -> bytes:
    r = rng.random()
    colon = text.find(b":")
    if r < 0.35 and colon > 0:  # splice a raw value after some key
        at = rng.choice([i for i in range(len(text)) if text[i : i + 1] == b":"])
        end = _value_end(text, at + 1)
        return text[: at + 1] + rng.choice(RAW_VALUES) + text[end:]
    if r < 0.55 and text.startswith(b"{") and colon > 0:  # duplicate key, either order
        dup = b'"seq": ' + rng.choice((b"1", b"-1", b'"x"', b"null", b"3.5")) + b", "
        return b"{" + dup + text[1:] if rng.random() < 0.5 else text[:-1] + b", " + dup[:-2] + b"}"
    if r < 0.65:
        return b"\xef\xbb\xbf" + text  # a UTF-8 byte-order mark
    if r < 0.75:
        return text + rng.choice((b"x", b" ", b"\n", b"}", b"{}", b"\x00", b",", b"//c"))
    if r < 0.85:
        return rng.choice((b"", b" ", b"null", b"[]", b'"s"', b"0", b"{}", b"{", b"}", b"\x00"))
    return text.replace(b'"', b"'", rng.randint(1, 4))


def _value_end(text: bytes, start: int) -> int:
    """Where the scalar value starting at ``start`` ends (roughly: the next , or })."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i : i + 1]
        if c in b"[{":
            depth += 1
        elif c in b"]}":
            if depth == 0:
                return i
            depth -= 1
        elif c == b"," and depth == 0:
            return i
    return len(text)


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """One byte-level mutation."""
    b = bytearray(data)
    r = rng.random()
    if not b or r < 0.15:
        return bytes(b[: rng.randint(0, len(b))])  # truncated
    i = rng.randrange(len(b))
    if r < 0.35:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif r < 0.5:
        b[i] = rng.randrange(256)
    elif r < 0.7:
        b[i:i] = rng.choice(BAD_UTF8)
    elif r < 0.8:
        del b[i : i + rng.randint(1, 16)]
    elif r < 0.9:
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    else:
        j = rng.randint(i, len(b))
        b[j:j] = b[i:j]  # a region repeated
    return bytes(b)


_ODD_IDS = (
    "nobody", "off-1", "W-1", "w-1 ", "w_1", "a" * 64, "a" * 65, "-w1", ".", "中文", "w\x00",
    "w\x01", "+", "#", "", "gw-1", "door-1", "gw-2", "w-1", "bed-1", "gw-off", "door-9",
)  # fmt: skip


def mutate_topic(rng: random.Random, topic: str) -> str:
    """A topic gone wrong: levels, ids and classes that are not the contract's."""
    parts = topic.split("/")
    r = rng.random()
    if r < 0.3:  # another id in one of the id levels (unknown, disabled, wrong gateway...)
        slots = [i for i in (3, 5) if i < len(parts) - 1]
        parts[rng.choice(slots)] = rng.choice(_ODD_IDS)
    elif r < 0.45:
        parts[-1] = rng.choice(("telemtry", "Telemetry", "events", "cmd", "errors", "", "+", "#"))
    elif r < 0.55:
        parts.insert(rng.randrange(len(parts) + 1), rng.choice(("extra", "", "devices", "v1")))
    elif r < 0.65:
        del parts[rng.randrange(len(parts))]
    elif r < 0.75:
        parts[rng.randrange(3)] = rng.choice(("Carehub", "v2", "device", "gateway", "$SYS", ""))
    elif r < 0.85:
        return rng.choice(("$share/carehub/", "/", "", "carehub/v1/#/")) + topic
    else:
        i = rng.randrange(len(topic) + 1)
        odd = rng.choice(("\x00", "é", "中", "🆘", "\u202e", "\ufeff", " "))
        return topic[:i] + odd + topic[i:]
    return "/".join(parts)
