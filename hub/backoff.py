"""Waiting between retries: a pure back-off schedule and one retry loop around it.

The schedule doubles from ``initial_s`` up to ``max_s``; with ``jitter`` each delay is
shortened by a random share of up to ``jitter`` of it, so hub workers that lost the same
database do not knock on it in step::

    backoff = Backoff(initial_s=0.5, max_s=30.0, jitter=0.5)
    backoff.next()   # 0.25–0.5 s, then 0.5–1, 1–2, ... never more than 30
    backoff.reset()  # after a success: the next outage starts short again

:func:`retry` runs an awaitable operation until it succeeds, sleeping by the schedule and
logging each failure with what failed and when the next try is. :func:`periodically` runs a
housekeeping step (a registry refresh, a retention pass) every so often for ever, a failure
logged and the next round kept. Their ``sleep`` is injected, so tests need not wait for
real.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hub.errors import CarehubError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Backoff:
    """Exponential back-off, capped, with optional jitter; see the module docstring.

    >>> b = Backoff(initial_s=1.0, max_s=5.0)
    >>> [b.next() for _ in range(5)]
    [1.0, 2.0, 4.0, 5.0, 5.0]
    >>> b.attempts
    5
    >>> Backoff(initial_s=1.0, jitter=0.5, random=lambda: 1.0).next()
    0.5
    """

    initial_s: float = 0.1
    max_s: float = 10.0
    factor: float = 2.0
    jitter: float = 0.0
    """Largest share of a delay taken off at random (0: none, 0.5: between half and all)."""
    random: Callable[[], float] = random.random
    attempts: int = field(default=0, init=False)
    """Delays handed out since the last :meth:`reset`."""
    _base: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.initial_s <= self.max_s:
            raise ValueError("need 0 < initial_s <= max_s")
        if self.factor < 1.0 or not 0.0 <= self.jitter <= 1.0:
            raise ValueError("need factor >= 1 and 0 <= jitter <= 1")

    def next(self) -> float:
        """The delay before the next try; each call is one more failed attempt."""
        # grown step by step and capped at once: no power of a long outage's count overflows
        self._base = (
            self.initial_s if self.attempts == 0 else min(self.max_s, self._base * self.factor)
        )
        self.attempts += 1
        return self._base * (1.0 - self.jitter * self.random())

    def reset(self) -> None:
        """The operation succeeded: the next failure waits ``initial_s`` again."""
        self.attempts = 0


async def retry(
    operation: Callable[[], Awaitable[T]],
    *,
    backoff: Backoff,
    what: str,
    retry_on: tuple[type[BaseException], ...] = (CarehubError,),
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    on_failure: Callable[[BaseException, float], object] | None = None,
) -> T:
    """Await ``operation()`` until it returns, retrying on ``retry_on`` with ``backoff``.

    Each failure is logged as a warning naming ``what`` (e.g. ``"store postgresql://db"``),
    the error, the attempt and the next delay, and passed to ``on_failure(error, delay)``.
    Other exceptions, and cancellation, propagate at once. The schedule is reset on success.
    """
    while True:
        try:
            result = await operation()
        except retry_on as exc:
            delay = backoff.next()
            log.warning(
                "%s: %s (attempt %d); next try in %.1f s", what, exc, backoff.attempts, delay
            )
            if on_failure is not None:
                on_failure(exc, delay)
            await sleep(delay)
        else:
            backoff.reset()
            return result


__all__ = ["Backoff", "retry"]


async def periodically(
    every_s: float,
    step: Callable[[], Awaitable[object]],
    what: str,
    *,
    first_now: bool = False,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Await ``step`` every ``every_s`` seconds until cancelled (first at once when
    ``first_now``). A :class:`~hub.errors.CarehubError` is logged as "``what`` failed" and
    the next round comes as usual: housekeeping must never stop for one bad round.

    >>> calls = []
    >>> async def step() -> None:
    ...     calls.append(len(calls))
    ...     if len(calls) == 2:
    ...         raise CarehubError("store away")
    >>> async def three_rounds(_s: float) -> None:
    ...     if len(calls) >= 3:
    ...         raise asyncio.CancelledError
    >>> try:
    ...     asyncio.run(periodically(5.0, step, "refresh", first_now=True, sleep=three_rounds))
    ... except asyncio.CancelledError:
    ...     pass
    >>> calls
    [0, 1, 2]
    """
    if first_now:
        await _guarded(step, what)
    while True:
        await sleep(every_s)
        await _guarded(step, what)


async def _guarded(step: Callable[[], Awaitable[object]], what: str) -> None:
    try:
        await step()
    except CarehubError as exc:
        log.warning("%s failed: %s", what, exc)
