"""Valid device-contract messages, the fuzzer's starting points.

The registry the fuzzer provisions (devices, gateways with sub-devices, a disabled one),
the routes a message can take (a device's own topics, a gateway's, a sub-device's through
its gateway) and builders that turn the published contract examples
(:data:`hub.contract.examples.EXAMPLES`) into fresh valid payloads at a given time and
``seq``. Every builder's output is valid: mutations (:mod:`tests.fuzz.mutate`) make it not.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hub.contract.examples import EXAMPLES
from hub.ingest.core import Ingest
from hub.metrics import HubMetrics
from hub.store.base import Device

DEVICES: tuple[Device, ...] = (
    Device("gw-1", "gateway"),
    Device("gw-2", "gateway"),
    Device("w-1", "wearable"),
    Device("w-2", "wearable"),
    Device("pd-1", "pendant"),
    Device("bp-1", "bp_monitor"),
    Device("door-1", "door", gateway_id="gw-1"),
    Device("bed-1", "bed", gateway_id="gw-1"),
    Device("smoke-1", "smoke", gateway_id="gw-1"),
    Device("water-1", "water", gateway_id="gw-2"),
    Device("env-1", "env", gateway_id="gw-2"),
    Device("off-1", "wearable", enabled=False),
    Device("gw-off", "gateway", enabled=False),
    Device("door-9", "door", gateway_id="gw-off"),
)
"""Gateways first: a sub-device's ``gateway_id`` refers to one."""


def new_ingest(clock: Callable[[], float]) -> Ingest:
    """A fresh ``Ingest`` that knows the fuzzer's devices."""
    ingest = Ingest(metrics=HubMetrics(), clock=clock)
    ingest.set_devices(DEVICES)
    return ingest


@dataclass(frozen=True, slots=True)
class Route:
    """Where a device publishes: ``{base}/{msg_type}``."""

    device_id: str
    base: str
    kinds: tuple[str, ...]
    """Telemetry and event examples that fit the device (names in EXAMPLES)."""

    def topic(self, msg_type: str) -> str:
        return f"{self.base}/{msg_type}"


_WEARABLE = ("wearable_vitals", "acc_burst", "sos", "fall", "wear", "button")
ROUTES: tuple[Route, ...] = (
    Route("w-1", "carehub/v1/devices/w-1", _WEARABLE),
    Route("w-2", "carehub/v1/devices/w-2", _WEARABLE),
    Route("pd-1", "carehub/v1/devices/pd-1", ("sos", "fall", "button", "acc_burst")),
    Route("bp-1", "carehub/v1/devices/bp-1", ("blood_pressure", "glucose")),
    Route("gw-1", "carehub/v1/gateways/gw-1", ("room_climate",)),
    Route("gw-2", "carehub/v1/gateways/gw-2", ("room_climate",)),
    Route("door-1", "carehub/v1/gateways/gw-1/devices/door-1", ("door", "motion")),
    Route("bed-1", "carehub/v1/gateways/gw-1/devices/bed-1", ("bed", "toilet", "motion")),
    Route("smoke-1", "carehub/v1/gateways/gw-1/devices/smoke-1", ("smoke", "gas")),
    Route("water-1", "carehub/v1/gateways/gw-2/devices/water-1", ("water", "room_climate")),
    Route("env-1", "carehub/v1/gateways/gw-2/devices/env-1", ("room_climate", "motion")),
)
"""Routes of the enabled devices; the disabled ones and strangers come from topic mutations."""

_BY_NAME: dict[str, tuple[str, str]] = {
    ex.name: (msg_type, json.dumps(ex.payload))
    for msg_type in ("telemetry", "event", "status", "reply")
    for ex in EXAMPLES[msg_type]
}
"""Example name → (message type, payload as JSON text: parsing it is a fast deep copy)."""
_FREE_TEXT = ("no speaker", "line one\nline two\ttabbed\r\n", "扬声器故障，请检修", "🔇 muted")
_ROOMS = ("kitchen", "bathroom", "卧室", "hall", "living room", "阳台 🌿")


def data_message(
    rng: random.Random, route: Route, *, seq: int, ts: float
) -> tuple[str, dict[str, Any]]:
    """A valid telemetry or event payload for ``route``: (message type, payload)."""
    msg_type, template = _BY_NAME[rng.choice(route.kinds)]
    payload = json.loads(template)
    payload["seq"] = seq
    payload["ts"] = _time(rng, ts)
    if "acc" in payload:
        n = rng.choice((1, 5, 25, 50)) if rng.random() < 0.98 else rng.randint(200, 2000)
        payload["acc"] = {
            "t0": ts - n / 50,
            "hz": 50,
            "g": [[round(rng.uniform(-2, 2), 3) for _ in range(3)] for _ in range(n)],
        }
    elif msg_type == "telemetry":
        for key in ("hr", "spo2", "battery", "humidity"):
            if key in payload:
                payload[key] = payload[key] + rng.choice((-2, -1, 0, 1, 2))
    if msg_type == "event" and rng.random() < 0.3:
        payload["room"] = rng.choice(_ROOMS)
    if rng.random() < 0.1:
        payload["ext"] = {"fw": "2.4.1", "raw": [1, 2.5, None], "note": rng.choice(_FREE_TEXT)}
    return msg_type, payload


def status_message(
    rng: random.Random, *, ts: float, boot: int, birth: bool = False
) -> dict[str, Any]:
    """A valid birth (with ``boot``), Last Will or clean shutdown; ``birth``: a birth."""
    name = "birth" if birth else rng.choices(("birth", "last_will", "shutdown"), (6, 3, 1))[0]
    payload = json.loads(_BY_NAME[name][1])
    if "ts" in payload:
        payload["ts"] = _time(rng, ts)
    if name == "birth":
        payload["boot"] = boot
    return payload


def reply_message(rng: random.Random, *, ts: float, command: int) -> dict[str, Any]:
    """A valid reply to command number ``command``."""
    payload = json.loads(_BY_NAME[rng.choice(("received", "done", "unsupported"))][1])
    payload["id"] = f"c-{command:x}"
    payload["ts"] = _time(rng, ts)
    if rng.random() < 0.4:
        payload["detail"] = rng.choice(_FREE_TEXT)
    return payload


_OFFSETS = (UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)))


def _time(rng: random.Random, ts: float) -> float | int | str:
    """``ts`` as a device may write it: epoch seconds (whole or fractional) or RFC 3339."""
    r = rng.random()
    if r < 0.6:
        return round(ts, 3)
    if r < 0.8:
        return int(ts)
    when = datetime.fromtimestamp(int(ts), UTC).astimezone(rng.choice(_OFFSETS))
    text = when.isoformat()
    return text.replace("+00:00", "Z") if rng.random() < 0.5 else text
