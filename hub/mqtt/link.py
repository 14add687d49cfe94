"""Keeping one broker connection up: connect, wait until it ends, back off, repeat.

The MQTT adapter's reconnect loop, ours rather than paho's (so that every connect
re-subscribes and republishes the hub's birth message), as one asyncio task and apart from
paho (only ``hub/mqtt/adapter.py`` imports it)::

    link = Link("mqtt://broker:1883", reconnect_min=0.5, reconnect_max=30)
    link.start(attempt, progress)   # attempt(): open a connection, return its LoopDriver
    ...                             # paho's on_disconnect calls link.lost()
    await link.stop(grace=10, goodbye=send_disconnect)

Back-off is exponential with jitter (between half and all of the delay,
:class:`hub.backoff.Backoff`) and starts again from ``reconnect_min`` once a connection got
through (``progress()`` grew). Every failed attempt is logged with the next delay, so an
operator sees that the broker is still being tried, and when next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from hub.backoff import Backoff
from hub.mqtt.loop import LoopDriver
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

T = TypeVar("T")


class Link:
    """Runs connection attempts until stopped; see the module docstring.

    ``attempt()`` raises ``OSError`` or ``ValueError`` when the broker cannot be reached.
    Setting ``reconnect_now`` before the connection ends skips the back-off once (a
    planned reconnect). ``stopping`` is true from :meth:`stop` on.
    """

    def __init__(
        self, url: str, reconnect_min: float, reconnect_max: float,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.url = url
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.sleep = sleep
        self.stopping = False
        self.reconnect_now = False
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connecting: asyncio.Future[Any] | None = None  # a connect in the executor

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(
        self, attempt: Callable[[], Awaitable[LoopDriver]], progress: Callable[[], int]
    ) -> None:
        """Start the reconnect loop in the running event loop."""
        self.stopping = False
        self._lost = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._run(attempt, progress), name=f"mqtt-link {self.url}"
        )

    def lost(self) -> None:
        """The connection ended (or an attempt failed after its socket opened)."""
        self._lost.set()

    async def blocking(self, fn: Callable[[], T]) -> T:
        """Run a blocking call (the TCP/TLS connect) in the default executor.

        Shielded: cancelling the loop does not abandon a connect half done; :meth:`stop`
        waits for it, so the socket it opened can be closed.
        """
        future = asyncio.get_running_loop().run_in_executor(None, fn)
        self._connecting = future
        try:
            return await asyncio.shield(future)
        finally:
            if future.done() and self._connecting is future:
                self._connecting = None

    async def stop(self, grace: float, goodbye: Callable[[], bool]) -> None:
        """End the loop. ``goodbye()`` starts a clean disconnect and says whether one is
        under way; the connection is given ``grace`` seconds to end."""
        self.stopping = True
        task, self._task = self._task, None
        if not self._lost.is_set() and goodbye():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), grace)
        await cancel_and_wait(task)
        connecting, self._connecting = self._connecting, None
        if connecting is not None:
            await asyncio.wait([connecting], timeout=grace)

    async def _run(
        self, attempt: Callable[[], Awaitable[LoopDriver]], progress: Callable[[], int]
    ) -> None:
        backoff = Backoff(self.reconnect_min, self.reconnect_max, jitter=0.5)
        bug_logged = False
        while not self.stopping:
            self._lost.clear()
            self.reconnect_now = False
            before = progress()
            failed: BaseException | None = None
            try:
                driver = await attempt()
            except (OSError, ValueError) as exc:
                failed = exc
            except Exception as exc:  # a bug or an unexpected paho error: keep on trying
                failed = exc
                if not bug_logged:  # the traceback once; the attempts below say the rest
                    log.exception("connecting to MQTT broker %s failed", self.url)
                    bug_logged = True
            else:
                keepalive = asyncio.create_task(driver.keepalive())
                try:
                    await self._lost.wait()
                finally:
                    keepalive.cancel()
                    await asyncio.gather(keepalive, return_exceptions=True)
            if progress() > before:
                backoff.reset()
                bug_logged = False
            if self.reconnect_now and not self.stopping:
                continue
            delay = backoff.next()
            if failed is not None and not self.stopping:
                log.warning(
                    "MQTT broker %s unreachable (%s, attempt %d); next try in %.1f s",
                    self.url, failed, backoff.attempts, delay,
                )  # fmt: skip
            await self.sleep(delay)


__all__ = ["Link"]
