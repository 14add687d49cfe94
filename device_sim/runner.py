"""Publish a run over MQTT, paced by an :class:`~device_sim.clock.AcceleratedClock`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from device_sim.clock import AcceleratedClock
from device_sim.engine import Run
from device_sim.publisher import Publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublishCounts:
    """What a run handed to paho, and what paho says became of it."""

    published: int
    """Messages the run asked to publish."""
    sent: int
    """Reported sent by paho (QoS 0 written to the socket, QoS 1 acknowledged)."""
    dropped: int
    """Not handed to the network: QoS 0 while disconnected (or refused by paho)."""

    @property
    def in_flight(self) -> int:
        """Neither confirmed nor dropped when the run ended (QoS 1 never acknowledged)."""
        return max(0, self.published - self.sent - self.dropped)

    def as_dict(self) -> dict[str, int]:
        return {"published": self.published, "sent": self.sent, "dropped": self.dropped,
                "in_flight": self.in_flight}  # fmt: skip


def publish_run(run: Run, url: str, clock: AcceleratedClock, passwords: Mapping[str, str],
                *, stop: threading.Event | None = None,
                progress: Callable[[int, float], None] | None = None
                ) -> PublishCounts:  # fmt: skip
    """Connect every connecting device, publish each message when its time comes; return
    what was published, sent and dropped. ``stop`` ends the run early (Ctrl-C)."""
    pub = Publisher(url, {d.id: (passwords.get(d.id), d.will()) for d in run.connections()})
    pub.connect()
    asked, last_report = 0, time.monotonic()
    try:
        for msg in run.messages:
            while clock.now() < msg.at and not (stop is not None and stop.is_set()):
                clock.sleep_until(msg.at, 0.2)
            if stop is not None and stop.is_set():
                break
            pub.publish(msg.conn, msg.topic, msg.payload, msg.qos, msg.retain)
            asked += 1
            if progress is not None and time.monotonic() - last_report > 2:
                progress(asked, msg.at)
                last_report = time.monotonic()
    finally:
        pub.close()  # waits for QoS 1 acknowledgements: counted before returning
    return _counts(pub)


def _counts(pub: Publisher) -> PublishCounts:
    return PublishCounts(pub.published, pub.sent, pub.dropped)
