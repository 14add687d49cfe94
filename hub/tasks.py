"""Stopping background tasks: cancel them and wait until they have ended.

Every long-lived part of the hub (the registry refresh, the visit keeper, the alert runner,
the dashboard's fan-out listener, ...) runs a task that it stops the same way: cancel it,
then await it so that its ``finally`` blocks have run before the part reports itself
stopped, the task's own ``CancelledError`` swallowed::

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

An exception other than cancellation that the task ended with is raised to the caller, as
awaiting the task directly would.

>>> async def forever() -> None:
...     await asyncio.Event().wait()
>>> async def main() -> bool:
...     task = asyncio.create_task(forever())
...     await asyncio.sleep(0)
...     await cancel_and_wait(task, None)
...     return task.cancelled()
>>> asyncio.run(main())
True
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Future[Any] | None) -> None:
    """Cancel every task given (``None`` skipped), then await each until it has ended."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    for task in running:
        with contextlib.suppress(asyncio.CancelledError):
            await task
