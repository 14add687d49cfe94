"""Simulated time: starts at ``epoch`` at wall time ``anchor`` and runs ``speed`` times faster.

Devices stamp ``ts`` with simulated time. The hub judges time too (silence, clock skew,
inactivity), so an accelerated run needs the hub on the same clock: pass
:meth:`AcceleratedClock.now` as the hub's clock (tests do), or run at speed 1 against a hub
on real time. A hub on real time refuses device times more than 24 h ahead of its own.

>>> c = AcceleratedClock(epoch=1_000.0, anchor=50.0, speed=60.0, wall=lambda: 51.0)
>>> c.now(), c.wall_for(1_120.0)
(1060.0, 52.0)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AcceleratedClock:
    """Maps wall time to simulated time: ``sim = epoch + (wall - anchor) * speed``."""

    epoch: float
    anchor: float
    speed: float = 1.0
    wall: Callable[[], float] = field(default=time.time, compare=False)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, got {self.speed}")

    def now(self) -> float:
        """Simulated time now (epoch seconds)."""
        return self.epoch + (self.wall() - self.anchor) * self.speed

    def wall_for(self, sim_t: float) -> float:
        """The wall time at which simulated time reaches ``sim_t``."""
        return self.anchor + (sim_t - self.epoch) / self.speed

    def sleep_until(self, sim_t: float, max_s: float = 0.5) -> None:
        """Sleep (at most ``max_s`` at a time) until simulated time reaches ``sim_t``."""
        delay = self.wall_for(sim_t) - self.wall()
        if delay > 0:
            time.sleep(min(delay, max_s))
