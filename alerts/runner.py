"""The asyncio side of the alert engine: timers, notification workers, commands.

:class:`AlertRunner` owns no state of its own that matters: alerts, deadlines and the
notification outbox live in the store through :class:`~alerts.engine.AlertEngine`. It

- calls the engine in a worker thread (the store is synchronous) and applies the effects
  it returns: publishes device commands through the ``publish(topic, payload, qos)``
  callable it was given, and wakes the sender loop for new notifications;
- runs :meth:`run`: fire due escalation rounds, send due notifications concurrently
  (bounded), each claimed just before it is sent (one cancelled meanwhile, perhaps by
  staff on another node, is not sent: :meth:`AlertEngine.claim
  <alerts.engine.AlertEngine.claim>`), record every attempt (the engine retries failures
  with back-off and raises a ``channel_down`` alert for a channel that keeps failing),
  then sleep until the next deadline or until woken.

Alert changes reach the dashboard through the engine's listeners
(:meth:`AlertEngine.add_listener <alerts.engine.AlertEngine.add_listener>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from alerts.commands import CommandOut
from alerts.engine import AlertEngine, Effect, FindingLike, NotificationDue
from alerts.notify import Sender
from hub.store.base import NotificationRow

log = logging.getLogger(__name__)

T = TypeVar("T")
RECOVER_S = 86_400.0
"""Findings stored up to this long before a start and never taken in are taken in then."""
Publish = Callable[[str, bytes, int], Any]


class AlertRunner:
    """Drives an :class:`AlertEngine`; see the module docstring."""

    def __init__(
        self, engine: AlertEngine, sender: Sender, *, publish: Publish | None = None,
        clock: Callable[[], float] = time.time, max_sleep_s: float = 1.0,
        concurrency: int = 32, send_timeout_s: float = 20.0,
    ) -> None:  # fmt: skip
        self.engine = engine
        self.sender = sender
        self.publish = publish
        self.clock = clock
        self.max_sleep_s = max_sleep_s
        self.send_timeout_s = send_timeout_s
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._inflight: set[str] = set()
        self.sent = 0
        self.failed = 0

    # --- calling the engine -------------------------------------------------------------

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run an engine method in a worker thread and apply the effects it returns."""
        result = await asyncio.to_thread(fn, *args, **kwargs)
        if isinstance(result, list):
            await self.apply([e for e in result if isinstance(e, NotificationDue | CommandOut)])
        return result

    async def recover(self) -> None:
        """Reload the engine from the store (call once at start, before :meth:`run`), then
        take in the findings stored but not taken in before the hub stopped."""
        now = self.clock()
        await self.call(self.engine.recover, now)
        left = await asyncio.to_thread(self.engine.store.unhandled_findings, now - RECOVER_S)
        if left:
            log.warning("taking in %d findings stored before a stop", len(left))
            await self.on_findings(left)

    async def on_findings(self, findings: Sequence[FindingLike]) -> None:
        """Feed stored findings (``FindingRow`` with ids) to the engine, in one worker
        thread (no second hop on an alarm's way to the console). Each is marked handled in
        the transaction of its own step, so a crash part-way leaves only the rest to feed
        again at the next start."""

        def feed() -> list[Effect]:
            effects: list[Effect] = []
            for f in findings:
                effects += self.engine.on_finding(f, self.clock())
            return effects

        await self.call(feed)

    async def on_reply(self, device_id: str, command_id: str, status: str, at: float) -> bool:
        return await asyncio.to_thread(self.engine.on_reply, device_id, command_id, status, at)

    async def apply(self, effects: Sequence[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, CommandOut):
                await self._publish(effect)
            else:
                self._wake.set()

    async def _publish(self, cmd: CommandOut) -> None:
        if self.publish is None:
            log.warning("no publisher: command %s for alert %s dropped", cmd.command_id,
                        cmd.alert_id)  # fmt: skip
            return
        try:
            result = self.publish(cmd.topic, cmd.payload, cmd.qos)
            if asyncio.iscoroutine(result):
                await result
        except Exception as exc:  # the broker adapter's errors: record, never crash the loop
            log.warning("publishing command %s failed: %s", cmd.command_id, exc)

    # --- the loop ---------------------------------------------------------------------------

    async def run_once(self, now: float | None = None) -> int:
        """Fire due rounds and send every notification due by ``now`` (the clock when
        None) that is still to be sent when claimed; wait for the sends. Returns the number
        of attempts made."""
        at = self.clock() if now is None else now
        await self.call(self.engine.tick, at)
        rows = await asyncio.to_thread(self.engine.due_notifications, at)
        rows = [r for r in rows if r.key not in self._inflight]
        if not rows:
            return 0
        claimed = await asyncio.to_thread(self.engine.claim, rows)
        if len(claimed) < len(rows):
            kept = {r.key for r in claimed}
            log.info("outbox rows %s were cancelled or recorded since they were found due;"
                     " not sent", ", ".join(r.key for r in rows if r.key not in kept))  # fmt: skip
        for r in claimed:
            self._inflight.add(r.key)
        await asyncio.gather(*(self._send(r, now) for r in claimed))
        return len(claimed)

    async def run(self) -> None:
        """Until cancelled: run, then sleep until the next deadline or a wake-up."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert runner step failed; retrying")
            wakeup = await asyncio.to_thread(self.engine.next_wakeup)
            delay = self.max_sleep_s
            if wakeup is not None:
                delay = min(delay, max(0.0, wakeup - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()

    async def _send(self, row: NotificationRow, now: float | None) -> None:
        """Send one claimed row and report the attempt."""
        try:
            async with self._slots:
                error: str | None = None
                try:
                    message = await asyncio.to_thread(self.engine.message_for, row)
                    await asyncio.wait_for(
                        self.sender.send(row.channel, message), timeout=self.send_timeout_s
                    )
                except TimeoutError:
                    error = f"timed out after {self.send_timeout_s:g} s"
                except Exception as exc:  # any sender failure is recorded and retried
                    error = str(exc) or type(exc).__name__
                if error is None:
                    self.sent += 1
                else:
                    self.failed += 1
                at = self.clock() if now is None else now
                await self.call(self.engine.notification_result, row, at, error)
        finally:
            self._inflight.discard(row.key)
