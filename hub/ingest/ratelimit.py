"""Per-device token bucket: pure, with the time passed in.

>>> b = TokenBucket(rate=1.0, burst=2)
>>> [b.allow(now=0.0) for _ in range(3)], b.allow(now=1.0)
([True, True, False], True)
"""

from __future__ import annotations


class TokenBucket:
    """Allows ``burst`` messages at once and ``rate`` per second sustained; it starts with
    ``tokens`` (default: a full burst)."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, tokens: float | None = None) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst if tokens is None else tokens)
        self._at: float | None = None

    def allow(self, now: float) -> bool:
        """Take one token if there is one. A clock that goes backwards refills nothing."""
        if self._at is not None and now > self._at:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        if self._at is None or now > self._at:
            self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
