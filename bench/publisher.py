"""A separate publisher process for the benchmarks (a publisher and a subscriber in one
Python process fight over the GIL and measure neither).

``python -m bench.publisher URL --devices N --per-device K --start-seq S`` publishes
``N * K`` telemetry messages round-robin over the devices as fast as it can, QoS 0, then
prints the count.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def payloads(
    devices: int, per_device: int, start_seq: int, seed: int = 1
) -> list[tuple[str, bytes]]:
    """Realistic wearable vitals messages (about 230 bytes each)."""
    rng = random.Random(seed)
    now = time.time()
    out = []
    for k in range(per_device):
        for d in range(devices):
            body = {
                "ts": round(now + k, 3),
                "seq": start_seq + k,
                "hr": float(rng.randint(55, 95)),
                "spo2": float(rng.randint(93, 99)),
                "rr": float(rng.randint(12, 20)),
                "temp": round(rng.uniform(36.1, 37.2), 1),
                "battery": float(rng.randint(20, 100)),
                "rssi": float(rng.randint(-90, -40)),
                "quality": {"hr": 0.95, "spo2": 0.9, "motion": False, "worn": True},
            }
            out.append((f"carehub/v1/devices/bench-{d:05d}/telemetry", json.dumps(body).encode()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--devices", type=int, required=True)
    ap.add_argument("--per-device", type=int, required=True)
    ap.add_argument("--start-seq", type=int, default=0)
    ap.add_argument(
        "--qos",
        type=int,
        choices=(0, 1),
        default=1,
        help="1, as the device contract asks of telemetry (the hub then "
        "acknowledges each reading after its commit)",
    )
    args = ap.parse_args()
    messages = payloads(args.devices, args.per_device, args.start_seq)
    parts = urlsplit(args.url)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{time.time_ns()}")
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    client.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    client.loop_start()
    info = None
    for topic, body in messages:
        info = client.publish(topic, body, qos=args.qos)
    if info is not None:
        info.wait_for_publish(timeout=60)
    client.disconnect()
    client.loop_stop()
    print(len(messages))


if __name__ == "__main__":
    main()
