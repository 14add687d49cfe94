"""What other processes commit, as it commits: ``LISTEN carehub_changes`` (migration 0018).

The store's triggers send a NOTIFY with an id from inside every transaction that changes an
alert, appends to an alert's timeline, records a device going online or offline, or
changes stations, residents or devices. PostgreSQL delivers a notification at commit, and
only to the connections listening at that moment; so :class:`ChangeListener`

- keeps one connection of its own (autocommit, ``application_name`` ``carehub-listen``),
  and hands what arrives to ``on_changes`` in batches (a burst of commits is one call);
- after every reconnection (the server restarted, the connection was cut) *first* listens
  again, *then* re-reads the alerts whose ``change_seq`` is above the highest it had seen
  (less :data:`RESYNC_OVERLAP`) and reports them with a registry change, as if they had just
  been notified. Listening before reading leaves no gap: a commit is either visible to the
  read or notified after it (or both: a change reported twice is harmless, its reader shows
  the row as it is now).

``change_seq`` comes from a sequence, taken when a transaction writes the row; a
transaction can commit after another that took a larger number. The overlap re-reads that
many numbers below the highest seen, so one committed out of order while the connection was
down is not missed.

>>> parse("a 17 al-1"), parse("d t w-1")
(Note(kind='a', seq=17, id='al-1'), Note(kind='d', seq=1, id='w-1'))
>>> parse("r"), parse("junk") is None
(Note(kind='r', seq=0, id=''), True)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import psycopg

from hub.backoff import Backoff

log = logging.getLogger(__name__)

CHANNEL = "carehub_changes"
RESYNC_OVERLAP = 1_000
"""Alert change numbers re-read below the highest seen after a reconnection."""
RESYNC_LIMIT = 10_000
BATCH = 500
BATCH_WAIT_S = 0.05


@dataclass(frozen=True, slots=True)
class Note:
    """One notification: ``a`` alert (``seq``: its change number), ``t`` timeline entry
    (``seq``: the entry's id, ``id``: its alert), ``d`` device status (``seq`` 1 online,
    0 offline), ``r`` registry."""

    kind: str
    seq: int
    id: str


def parse(payload: str) -> Note | None:
    """A notification's payload as a :class:`Note`; None for anything else."""
    kind, _, rest = payload.partition(" ")
    if kind == "r":
        return Note("r", 0, "")
    num, _, ident = rest.partition(" ")
    if kind == "d" and num in ("t", "f") and ident:
        return Note("d", 1 if num == "t" else 0, ident)
    if kind in ("a", "t") and num.isdigit() and ident:
        return Note(kind, int(num), ident)
    return None


class ChangeListener:
    """See the module docstring. :meth:`run` until cancelled."""

    def __init__(
        self, url: str, on_changes: Callable[[list[Note]], Awaitable[None]], *,
        retry_min_s: float = 0.2, retry_max_s: float = 5.0,
        application_name: str = "carehub-listen",
    ) -> None:  # fmt: skip
        self.url = url
        self.on_changes = on_changes
        self.backoff = Backoff(retry_min_s, retry_max_s, jitter=0.2)
        self.application_name = application_name
        self.last_seq: int | None = None
        """Highest alert change number seen (None until the first connection)."""
        self.connected = asyncio.Event()
        self.connects = 0
        self.resyncs = 0
        self.notes = 0

    async def run(self) -> None:
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.warning("change listener: connection lost (%s); reconnecting", exc)
            self.connected.clear()
            await asyncio.sleep(self.backoff.next())

    async def _session(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, application_name=self.application_name, connect_timeout=5
        )
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            await self._resync(conn)
            self.connects += 1
            self.connected.set()
            self.backoff.reset()
            while True:
                # the first to come, then what else arrived meanwhile without waiting long
                first = [n.payload async for n in conn.notifies(timeout=1.0, stop_after=1)]
                more = [
                    n.payload
                    async for n in conn.notifies(timeout=BATCH_WAIT_S, stop_after=BATCH)
                ] if first else []  # fmt: skip
                batch = [note for p in first + more if (note := parse(p)) is not None]
                if first:
                    await self._deliver(batch)
                else:  # a quiet second: make sure the connection is still there
                    await conn.execute("SELECT 1")
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _resync(self, conn: psycopg.AsyncConnection[tuple[object, ...]]) -> None:
        if self.last_seq is None:  # the first connection: nothing was shown yet
            cur = await conn.execute("SELECT coalesce(max(change_seq), 0) FROM alerts")
            row = await cur.fetchone()
            self.last_seq = int(row[0]) if row else 0  # type: ignore[call-overload]
            return
        since = max(0, self.last_seq - RESYNC_OVERLAP)
        cur = await conn.execute(
            "SELECT change_seq, id FROM alerts WHERE change_seq > %s ORDER BY change_seq LIMIT %s",
            (since, RESYNC_LIMIT),
        )
        rows = await cur.fetchall()
        notes = [Note("a", int(seq), str(ident)) for seq, ident in rows]  # type: ignore[call-overload]
        self.resyncs += 1
        log.info("change listener: resynced %d alert changes after a reconnection", len(notes))
        await self._deliver([*notes, Note("r", 0, "")])

    async def _deliver(self, batch: list[Note]) -> None:
        for note in batch:
            if note.kind == "a" and (self.last_seq is None or note.seq > self.last_seq):
                self.last_seq = note.seq
        self.notes += len(batch)
        try:
            await self.on_changes(batch)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in a reader must not end the listening
            log.exception("change listener: handling %d changes failed", len(batch))
