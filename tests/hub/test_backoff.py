"""The back-off schedule and the retry loop around it, on an injected sleep."""

from __future__ import annotations

import math

import pytest

from hub.backoff import Backoff, retry
from hub.errors import ConfigError, StoreError


def test_the_schedule_doubles_up_to_the_cap_and_starts_again_after_a_success() -> None:
    b = Backoff(initial_s=0.5, max_s=30.0)
    assert [b.next() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert b.attempts == 9
    b.reset()
    assert (b.next(), b.attempts) == (0.5, 1)


def test_jitter_only_shortens_a_delay() -> None:
    draws = iter([0.0, 1.0, 0.5])
    b = Backoff(initial_s=1.0, max_s=4.0, jitter=0.5, random=lambda: next(draws))
    assert [b.next() for _ in range(3)] == [1.0, 1.0, 3.0]  # 1·1, 2·(1-0.5), 4·(1-0.25)
    real = Backoff(initial_s=1.0, max_s=4.0, jitter=0.5)
    for _ in range(50):
        assert 0.5 <= real.next() <= 4.0


def test_a_long_outage_never_overflows() -> None:
    b = Backoff(initial_s=0.1, max_s=30.0, factor=10.0)
    for _ in range(5000):  # a power of the attempt count would have overflowed long ago
        delay = b.next()
    assert delay == 30.0 and math.isfinite(delay)


@pytest.mark.parametrize(
    "kw", [{"initial_s": 0.0}, {"initial_s": 2.0, "max_s": 1.0}, {"factor": 0.5}, {"jitter": 2}]
)
def test_bad_schedules_are_refused(kw: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        Backoff(**kw)


async def test_retry_sleeps_by_the_schedule_and_reports_each_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    slept: list[float] = []
    failures: list[tuple[str, float]] = []
    outcomes: list[Exception | str] = [StoreError("down"), StoreError("still down"), "up"]

    async def operation() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def sleep(delay: float) -> None:
        slept.append(delay)

    backoff = Backoff(initial_s=1.0, max_s=10.0)
    result = await retry(
        operation, backoff=backoff, what="store db not ready", sleep=sleep,
        on_failure=lambda exc, delay: failures.append((str(exc), delay)),
    )  # fmt: skip
    assert result == "up"
    assert slept == [1.0, 2.0]
    assert failures == [("down", 1.0), ("still down", 2.0)]
    assert backoff.attempts == 0  # reset by the success
    logged = [r.getMessage() for r in caplog.records if r.name == "hub.backoff"]
    assert logged == [
        "store db not ready: down (attempt 1); next try in 1.0 s",
        "store db not ready: still down (attempt 2); next try in 2.0 s",
    ]


async def test_retry_lets_other_errors_through() -> None:
    async def operation() -> None:
        raise ConfigError("bad URL")

    async def sleep(delay: float) -> None:
        raise AssertionError("a configuration error is not retried")

    with pytest.raises(ConfigError):
        await retry(operation, backoff=Backoff(), what="x", retry_on=(StoreError,), sleep=sleep)
