"""Stopping background tasks: cancelled, waited for, their clean-up run, failures raised."""

from __future__ import annotations

import asyncio

import pytest

from hub.tasks import cancel_and_wait


async def test_every_task_is_cancelled_and_its_cleanup_has_run_on_return() -> None:
    cleaned: list[str] = []

    async def worker(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # clean-up that itself awaits
            cleaned.append(name)

    a = asyncio.create_task(worker("a"))
    b = asyncio.create_task(worker("b"))
    await asyncio.sleep(0)
    await cancel_and_wait(a, None, b)
    assert sorted(cleaned) == ["a", "b"]
    assert a.cancelled() and b.cancelled()


async def test_a_finished_task_or_none_is_fine() -> None:
    done = asyncio.create_task(asyncio.sleep(0, result=3))
    await done
    await cancel_and_wait(done)
    await cancel_and_wait(None)
    assert done.result() == 3


async def test_a_task_that_failed_raises_its_error() -> None:
    async def broken() -> None:
        raise ValueError("boom")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="boom"):
        await cancel_and_wait(task)
