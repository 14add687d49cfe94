"""Device clock offset estimation: pure, per device.

The delay ``received_at - ts`` of a message is the device clock's offset (negated) plus the
network and broker delay, which is never negative. The smallest delay over recent messages
therefore estimates the offset (the idea behind NTP's minimum-delay filter). A device that
uploads a backlog after being offline shows large delays that shrink as it catches up: its
messages arrive faster than their device times advance, so those are left out of the
estimate rather than reported as skew. A delay that differs from the previous one by more
than ``step_s`` is a step of the device clock (set by hand, synchronised again): the older
delays describe a clock that no longer exists, so the window starts again from this one.
Without that, a clock that ran ahead and was corrected would keep its stale smallest delay
for ``samples`` more messages — hours for a sensor that sends once an hour.

>>> est = ClockOffset(samples=3)
>>> for i in range(3):
...     off = est.update(ts=1000.0 + 30 * i + 300, received_at=1000.0 + 30 * i + 0.2)
>>> round(off, 1)
299.8
"""

from __future__ import annotations

from collections import deque


class ClockOffset:
    """Estimated device clock minus hub clock, in seconds (positive: device ahead)."""

    __slots__ = ("_delays", "_last", "catch_up_ratio", "samples", "slack_s", "step_s")

    def __init__(
        self, samples: int = 8, catch_up_ratio: float = 2.0, step_s: float = 60.0,
        slack_s: float = 0.1,
    ) -> None:  # fmt: skip
        self.samples = samples
        self.catch_up_ratio = catch_up_ratio
        self.step_s = step_s
        self.slack_s = slack_s
        """Device time may run this much ahead of arrival time without being a backlog
        (timestamp rounding). Small on purpose: an accelerometer burst held in the broker
        arrives as chunks a second apart in device time and none in arrival time."""
        self._delays: deque[float] = deque(maxlen=samples)
        self._last: tuple[float, float] | None = None

    def update(self, ts: float, received_at: float) -> float | None:
        """Add one message; return the offset estimate once enough live messages were seen,
        else ``None`` (also while the device is catching up on a backlog)."""
        last, self._last = self._last, (ts, received_at)
        if last is not None:
            d_ts, d_rx = ts - last[0], received_at - last[1]
            if d_ts > self.catch_up_ratio * max(d_rx, 0.0) + self.slack_s:
                return None  # backlog: device time runs ahead of arrival time
        delay = received_at - ts
        if self._delays and abs(delay - self._delays[-1]) > self.step_s:
            self._delays.clear()  # the device clock stepped
        self._delays.append(delay)
        if len(self._delays) < self.samples:
            return None
        return -min(self._delays)
