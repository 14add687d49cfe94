"""Valid messages at the contract's limits: the largest and smallest values, texts, bursts
and extras a device may send, which the store must keep exactly as they came.

Every value here is inside the published limits (docs/device-contract.md, section 10), so
ingest should accept these messages; the fuzzer's oracles then check that they are stored
and read back unchanged.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hub.contract import limits

VITALS: dict[str, tuple[float, float]] = {
    "hr": (20, 250), "spo2": (50, 100), "rr": (3, 70), "temp": (30, 44), "glucose": (0.5, 40),
    "battery": (0, 100), "rssi": (-130, 0), "room_temp": (-30, 70), "humidity": (0, 100),
}  # fmt: skip
TEXTS = ("x", "🆘" * limits.MAX_TEXT, "中" * limits.MAX_TEXT, "a" * limits.MAX_TEXT, "é\u0301")
FREE = ("\t\n\r" * 166 + "ok", "扬" * 500, "line\r\nline\ttab " * 31)


def _bound(rng: random.Random, low: float, high: float) -> float:
    """A bound itself, or the float just inside it."""
    edge = rng.choice((low, high))
    if rng.random() < 0.3:
        edge = float(edge) + (1e-9 if edge == low else -1e-9) * max(1.0, abs(edge))
    return edge


def ext(rng: random.Random) -> dict[str, Any]:
    """Vendor extras of exactly ``MAX_EXT_BYTES`` bytes as compact JSON, with 64-bit integers
    and the extreme finite floats."""
    base: dict[str, Any] = rng.choice((
        {"max": 2**63 - 1, "min": -(2**63)},
        {"tiny": 5e-324, "huge": 1.7976931348623157e308, "neg0": -0.0},
        {"键": "值🆘", "nested": {"a": [1, {"b": None}]}, "free": "tab\there\nnewline"},
    ))  # fmt: skip
    base["pad"] = ""
    used = len(json.dumps(base, ensure_ascii=False, separators=(",", ":")).encode())
    base["pad"] = "x" * (limits.MAX_EXT_BYTES - used)
    return base


def telemetry(rng: random.Random, *, seq: int, ts: float) -> dict[str, Any]:
    payload: dict[str, Any] = {"ts": ts, "seq": seq}
    if rng.random() < 0.3:
        n = rng.choice((1, limits.MAX_ACC_SAMPLES))
        g = [[rng.choice((-limits.MAX_ACC_G, limits.MAX_ACC_G, 0.0)) for _ in range(3)]] * n
        hz = rng.choice(limits.ACC_HZ_RANGE)
        payload["acc"] = {"t0": ts, "hz": hz, "g": g}
    else:
        for name, (low, high) in VITALS.items():
            if rng.random() < 0.6:
                payload[name] = _bound(rng, low, high)
        payload["sbp"], payload["dbp"] = rng.choice(((280, 180), (50, 20), (180.000001, 180)))
        payload["quality"] = {"hr": rng.choice((0, 1)), "spo2": 1.0, "motion": True, "worn": False}
    if rng.random() < 0.5:
        payload["ext"] = ext(rng)
    return payload


def event(rng: random.Random, *, seq: int, ts: float) -> dict[str, Any]:
    payload: dict[str, Any] = rng.choice((
        {"type": "fall", "confidence": rng.choice((0, 1)), "impact_g": rng.choice((0, 64))},
        {"type": "door", "open": False, "door": rng.choice(TEXTS)},
        {"type": "button", "button": rng.choice(TEXTS), "press": "double"},
        {"type": "sos", "press": "long"},
    ))  # fmt: skip
    payload.update(ts=ts, seq=seq, room=rng.choice(TEXTS))
    if rng.random() < 0.5:
        payload["ext"] = ext(rng)
    return payload


def status(rng: random.Random, *, ts: float, boot: int) -> dict[str, Any]:
    return {
        "state": "online", "ts": ts, "boot": boot, "kind": rng.choice(("gateway", "env")),
        "vendor": rng.choice(TEXTS), "model": rng.choice(TEXTS), "firmware": rng.choice(TEXTS),
        "capabilities": [rng.choice(TEXTS) for _ in range(32)],
        "interval_s": rng.choice((1, 86_400, 1.5)), "ext": ext(rng),
    }  # fmt: skip


def reply(rng: random.Random, *, ts: float) -> dict[str, Any]:
    return {"id": rng.choice(TEXTS), "ts": ts, "status": "failed", "detail": rng.choice(FREE)}
