"""Publish a run over MQTT, paced by an :class:`~device_sim.clock.AcceleratedClock`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from device_sim.clock import AcceleratedClock
from device_sim.engine import Run
from device_sim.publisher import Publisher

log = logging.getLogger(__name__)


def publish_run(run: Run, url: str, clock: AcceleratedClock, passwords: Mapping[str, str],
                *, stop: threading.Event | None = None,
                progress: Callable[[int, float], None] | None = None) -> int:  # fmt: skip
    """Connect every connecting device, publish each message when its time comes; return
    how many were published. ``stop`` ends the run early (Ctrl-C)."""
    pub = Publisher(url, {d.id: (passwords.get(d.id), d.will()) for d in run.connections()})
    pub.connect()
    sent, last_report = 0, time.monotonic()
    try:
        for msg in run.messages:
            while clock.now() < msg.at:
                if stop is not None and stop.is_set():
                    return sent
                clock.sleep_until(msg.at, 0.2)
            pub.publish(msg.conn, msg.topic, msg.payload, msg.qos, msg.retain)
            sent += 1
            if progress is not None and time.monotonic() - last_report > 2:
                progress(sent, msg.at)
                last_report = time.monotonic()
    finally:
        pub.close()
    return sent
