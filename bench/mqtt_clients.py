"""Does the hub's MQTT short path pay? Three subscribers drain the same backlog, side by side.

The hub's client (:class:`hub.mqtt.adapter._Client`) reads the socket in large chunks and
decodes plain PUBLISH packets itself, leaving the rest to paho; it overrides private paho
hooks to do so (pinned, and guarded by ``tests/hub/mqtt/test_paho_hooks.py``). That is only
worth its upkeep if it is clearly faster than what a project would use otherwise:

* **short path**: the hub's client, messages handed to ``publish_sink`` (what the hub does);
* **paho**: stock ``paho.mqtt.client.Client`` with an ``on_message`` callback;
* **aiomqtt**: the asyncio wrapper around paho, ``async for message in client.messages``.

Each side has a persistent session (MQTT 3.1.1, ``clean_session=False``) subscribed to the
telemetry topics at QoS 1. Per round the bench publisher (a separate process) puts
``--messages`` wearable readings (QoS 1, about 230 bytes) into a throwaway Mosquitto, which
queues them for all three sessions; then each side connects and drains its queue,
acknowledging each message, timed from connect to the last message. The order of the sides
rotates from round to round; figures are medians over ``--runs`` rounds (5). Each side only
counts its messages: this is the client's own cost, not the hub's ingest (``bench.ingest``).

Run: ``.venv/bin/python -m bench.mqtt_clients`` (about a minute). Writes
``mqtt_short_path_msgs_per_s``, ``mqtt_paho_msgs_per_s``, ``mqtt_aiomqtt_msgs_per_s``,
``mqtt_short_path_vs_paho`` and ``mqtt_short_path_vs_aiomqtt`` into bench/results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import Figure, median, mosquitto, report, show
from hub.mqtt.adapter import _Client

TOPIC = "carehub/v1/devices/+/telemetry"
SIDES = ("short path", "paho", "aiomqtt")
TIMEOUT_S = 300.0


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 1883


def _client_id(side: str) -> str:
    return "bench-" + side.replace(" ", "-")


def subscribe(url: str, side: str) -> None:
    """Open the side's persistent session and subscribe it, so the broker queues for it."""
    host, port = _address(url)
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=_client_id(side), clean_session=False)
    c.connect(host, port)
    c.loop_start()
    c.subscribe(TOPIC, qos=1)[1]
    time.sleep(0.5)  # the SUBACK
    c.disconnect()
    c.loop_stop()


def publish(url: str, messages: int) -> None:
    """Queue ``messages`` readings for every session (the bench publisher, QoS 1)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.publisher", url, "--devices", "100",
         "--per-device", str(messages // 100), "--qos", "1"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    sent = json.loads(out.stdout.strip().splitlines()[-1])["sent"]
    if sent != messages // 100 * 100:
        raise SystemExit(f"the publisher sent {sent} messages")


def _drain_paho(client: paho.Client, url: str, n: int, got: list[int]) -> float:
    host, port = _address(url)
    start = time.perf_counter()
    client.connect(host, port)
    deadline = start + TIMEOUT_S
    buffered = getattr(client, "buffered", lambda: 0)  # the hub's client reads ahead
    while got[0] < n:
        if buffered():  # bytes it holds that select() cannot see (hub.mqtt.loop does this)
            client.loop_read()
        else:
            client.loop(timeout=0.05)
        if time.perf_counter() > deadline:
            raise SystemExit(f"{client._client_id!r} received {got[0]} of {n}")
    took = time.perf_counter() - start
    client.disconnect()
    return took


def drain_short_path(url: str, n: int) -> float:
    got = [0]

    def sink(_t: str, _p: bytes, _q: int, _r: bool, _m: int, _d: bool) -> None:
        got[0] += 1

    client = _Client(CallbackAPIVersion.VERSION2, client_id=_client_id("short path"),
                     clean_session=False)  # fmt: skip
    client.publish_sink = sink
    client.on_message = lambda *_: sink("", b"", 0, False, 0, False)  # what paho still reads
    return _drain_paho(client, url, n, got)


def drain_paho(url: str, n: int) -> float:
    got = [0]

    def on_message(_c: Any, _u: Any, _m: paho.MQTTMessage) -> None:
        got[0] += 1

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=_client_id("paho"),
                         clean_session=False)  # fmt: skip
    client.on_message = on_message
    return _drain_paho(client, url, n, got)


def drain_aiomqtt(url: str, n: int) -> float:
    host, port = _address(url)

    async def run() -> float:
        got = 0
        start = time.perf_counter()
        async with aiomqtt.Client(host, port, identifier=_client_id("aiomqtt"),
                                  clean_session=False) as client:  # fmt: skip
            async with asyncio.timeout(TIMEOUT_S):
                async for _message in client.messages:
                    got += 1
                    if got >= n:
                        break
            return time.perf_counter() - start

    return asyncio.run(run())


DRAINS: dict[str, Callable[[str, int], float]] = {
    "short path": drain_short_path, "paho": drain_paho, "aiomqtt": drain_aiomqtt,
}  # fmt: skip


def measure(url: str, messages: int, runs: int) -> dict[str, list[float]]:
    """Messages per second of each side, per round."""
    for side in SIDES:
        subscribe(url, side)
    rates: dict[str, list[float]] = {side: [] for side in SIDES}
    n = messages // 100 * 100
    for r in range(runs):
        publish(url, n)
        order = SIDES[r % 3 :] + SIDES[: r % 3]  # each side goes first, second and last
        for side in order:
            rates[side].append(n / DRAINS[side](url, n))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=50_000, help="per round (50,000)")
    parser.add_argument("--runs", type=int, default=5, help="rounds (5)")
    args = parser.parse_args()
    with mosquitto() as url:
        rates = measure(url, args.messages, args.runs)
    show(f"MQTT clients draining {args.messages:,} queued messages", [
        (side, ", ".join(f"{v:,.0f}" for v in rates[side]) + " msg/s") for side in SIDES
    ])  # fmt: skip
    short, stock, aio = (median(rates[s]) for s in SIDES)
    ratio_paho = median([a / b for a, b in zip(rates["short path"], rates["paho"], strict=True)])
    ratio_aio = median([a / b for a, b in zip(rates["short path"], rates["aiomqtt"], strict=True)])
    figures = [
        Figure("mqtt_short_path_vs_paho", ratio_paho, args.runs),
        Figure("mqtt_short_path_vs_aiomqtt", ratio_aio, args.runs),
        Figure("mqtt_short_path_msgs_per_s", short, args.runs),
        Figure("mqtt_paho_msgs_per_s", stock, args.runs),
        Figure("mqtt_aiomqtt_msgs_per_s", aio, args.runs),
    ]
    raise SystemExit(report("MQTT client: the hub's short path against stock clients", figures))


if __name__ == "__main__":
    main()
