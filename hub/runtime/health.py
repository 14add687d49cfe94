"""The store's health as ``/healthz`` reports it: probed in the background, read from a cache.

A liveness probe that waits on the database would restart the hub into the very outage it
is waiting out (the pool gives a connection up only after 30 s). So a background task asks
the store a cheap question every ``interval_s``, in a thread of its own (never queued behind
the writers' store calls in the default executor), awaiting the answer ``timeout_s`` at
most; ``/healthz`` reads the last result and says how old it is. A probe that hangs is not
started again until it returns: while it hangs the store is reported down, by how long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class StoreProbe:
    """Keeps the last answer of ``probe()`` (a cheap store query); see the module docstring."""

    def __init__(
        self,
        probe: Callable[[], object],
        *,
        interval_s: float = 5.0,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.probe = probe
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.sleep = sleep
        self.ok: bool | None = None
        """None until the first probe answered (or gave up)."""
        self.error: str | None = "not probed yet"
        self.checked_at: float | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._running: asyncio.Future[object] | None = None
        self._running_since = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Probe once (bounded by ``timeout_s``), then keep probing in the background."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-probe")
        await self.check()
        self._task = asyncio.create_task(self._loop(), name="store-probe")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._executor is not None:
            # a probe stuck in the driver returns once the store is closed; not waited for
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def check(self) -> None:
        """Probe now and keep the result (never raises)."""
        if self._executor is None:
            raise RuntimeError("StoreProbe.check() before start()")
        now = self.clock()
        if self._running is not None and not self._running.done():
            hung = now - self._running_since
            self._keep(False, f"no answer for {hung:.1f} s", now)
            return
        running = asyncio.get_running_loop().run_in_executor(self._executor, self.probe)
        running.add_done_callback(_retrieve)
        self._running, self._running_since = running, now
        try:
            async with asyncio.timeout(self.timeout_s):
                await asyncio.shield(running)
        except TimeoutError:
            self._keep(False, f"no answer within {self.timeout_s:g} s", self.clock())
        except Exception as exc:  # report, never raise from a health check
            self._keep(False, str(exc) or type(exc).__name__, self.clock())
        else:
            self._keep(True, None, self.clock())

    def report(self) -> dict[str, Any]:
        """``ok``, ``error`` and ``age_s`` (seconds since the result; None before the first)."""
        at = self.checked_at
        age = None if at is None else round(max(0.0, self.clock() - at), 2)
        return {"ok": bool(self.ok), "error": self.error, "age_s": age}

    def _keep(self, ok: bool, error: str | None, at: float) -> None:
        if ok != self.ok and self.ok is not None:
            if ok:
                log.info("store answers again")
            else:
                log.warning("store probe failed: %s", error)
        self.ok, self.error, self.checked_at = ok, error, at

    async def _loop(self) -> None:
        while True:
            await self.sleep(self.interval_s)
            await self.check()


def _retrieve(future: asyncio.Future[object]) -> None:
    """Mark the outcome of a probe nobody waited for as seen (no "never retrieved" noise)."""
    if not future.cancelled():
        future.exception()
