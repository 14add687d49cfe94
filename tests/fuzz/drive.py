"""Drive cases through the hub's real ingest path, the way the pipeline does, and classify
what became of each one.

For each case: ``Ingest.handle``, then what it added to the pending batch says what ingest
decided (one row: accepted; one dead letter: refused; nothing: a duplicate, an echo of the
hub's own topics or a retained status that changes nothing). Every ``batch`` cases:
``Ingest.take``, split into the alarm part and the bulk like
:meth:`hub.runtime.pipeline.Pipeline._hand_off`, each committed by
:class:`hub.runtime.poison.BatchCommit` on the real store, then the oracles.

A crash is an exception leaving ``handle`` or the commit, or an input that ingest's own
safety net turned into ``internal_error``. Every ``restart_every`` batches the hub restarts:
a new ``Ingest`` loaded from the store.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from hub.contract.codes import ErrorCode
from hub.contract.topics import is_outbound, parse_topic
from hub.ingest.core import Ingest, Pending
from hub.runtime.poison import BatchCommit
from hub.store.base import Store
from tests.fuzz.backends import Readback
from tests.fuzz.corpus import Corpus, Crash
from tests.fuzz.generate import Case, index_of
from tests.fuzz.oracle import Oracle, Outcome, Tally
from tests.fuzz.seeds import new_ingest

CLASSES = ("telemetry", "event", "status", "reply")
_LISTS = ("telemetry", "events", "status", "replies", "dead_letters")
RECENT_S = 24 * 3600.0
"""How far back a restarted hub reloads ``seq`` (``CAREHUB_RECENT_SEQ_HOURS``' default)."""


class _Errors(logging.Handler):
    """Keeps the tracebacks the hub logs while it swallows an exception."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append("".join(traceback.format_exception(*record.exc_info)))


class Driver:
    """Runs cases through ingest and a store; :attr:`tally` says how it went."""

    def __init__(
        self, backend: str, store: Store, readback: Readback, *, seed: int, batch: int,
        ts_key: Callable[[float], Any], corpus: Corpus, restart_every: int = 25,
    ) -> None:  # fmt: skip
        self.backend = backend
        self.store = store
        self.batch = batch
        self.restart_every = restart_every
        self._batches = 0
        self.ts_key = ts_key
        self.corpus = corpus
        self.now = 0.0
        self.ingest = new_ingest(lambda: self.now)
        self.tally = Tally(backend)
        self.oracle = Oracle(self.tally, store, readback, seed)
        self._keys: dict[int, int] = {}  # store key of an accepted row → its payload's hash
        self._errors = _Errors()

    def run(
        self, cases: Iterable[Case], observe: Callable[[Case, str | None], None] | None = None
    ) -> Tally:
        """Drive ``cases``; ``observe`` is told each one's refusal code (None: not refused)."""
        hub_log = logging.getLogger("hub")
        hub_log.addHandler(self._errors)
        started = time.perf_counter()
        try:
            outcomes: dict[int, Outcome] = {}
            for case in cases:
                self.now = case.received_at
                out = outcomes[index_of(case.received_at)] = self._handle(case)
                if observe is not None:
                    observe(case, out.code or None)
                if len(outcomes) >= self.batch:
                    self._commit(outcomes)
                    outcomes = {}
            self._commit(outcomes)
            self.oracle.check_end(self.ingest.metrics)
        finally:
            hub_log.removeHandler(self._errors)
        self.tally.seconds = time.perf_counter() - started
        return self.tally

    def _handle(self, case: Case) -> Outcome:
        p = self.ingest.pending
        before = [len(getattr(p, name)) for name in _LISTS]
        self._errors.records.clear()
        self.tally.inputs += 1
        try:
            self.ingest.handle(case)
        except Exception as exc:  # handle() promises never to raise
            self._crash("handle", [case], exc, traceback.format_exc())
            return Outcome("crashed", case)
        added = [len(getattr(p, name)) - n for name, n in zip(_LISTS, before, strict=True)]
        rows, letters = sum(added[:4]), added[4]
        if rows == 0 and letters == 1:
            code = p.dead_letters[-1].code
            self.tally.refused[code] += 1
            if code == ErrorCode.INTERNAL_ERROR:
                self._crash("handle", [case], None, "\n".join(self._errors.records))
            return Outcome("refused", case, code=code)
        if rows == 1 and letters == 0:
            cls = CLASSES[added.index(1)]
            row = getattr(p, _LISTS[added.index(1)])[-1]
            stored = self._new_key(cls, row, case)
            out = Outcome("accepted", case, cls=cls, row=row, stored=stored)
            self.tally.accepted[cls] += 1
            self.oracle.accepted(out)
            return out
        if rows or letters:
            self.tally.violation(f"{case!r}: one input made {rows} rows and {letters} letters")
            return Outcome("several", case)
        if (code := self.ingest.last_refused) is not None:  # refused, not kept (a flood)
            self.tally.refused[code] += 1
            return Outcome("refused", case, code=code)
        kind = self._nothing(case)
        self.tally.other[kind] += 1
        return Outcome(kind, case)

    def _nothing(self, case: Case) -> str:
        """Why an input left no row and no dead letter."""
        if is_outbound(case.topic):
            return "echo"
        if not case.payload:
            return "cleared"  # the deletion of a retained message
        parsed = parse_topic(case.topic)
        if parsed is not None and parsed.msg_type == "status":
            if not case.retain:
                self.tally.violation(f"{case!r}: a live status neither stored nor refused")
            return "unchanged"
        return "duplicate"

    def _new_key(self, cls: str, row: Any, case: Case) -> bool:
        """False when an accepted row's store key (device, time, seq) was taken before: the
        store's unique key then drops it (docs/architecture.md). Counted by whether the
        payload is the same bytes (a redelivery a reboot let past the duplicate window: right
        to drop) or not (a device that restarted ``seq`` with a new boot and sent a time it
        had sent before: a message acknowledged and not kept)."""
        if cls not in ("telemetry", "event"):
            return True
        key = hash((cls, row.device_id, self.ts_key(row.ts), row.seq))
        first = self._keys.get(key)
        if first is None:
            self._keys[key] = hash(case.payload)
            return True
        same = first == hash(case.payload)
        self.tally.key_taken["redelivery" if same else "new content, not kept"] += 1
        return False

    def _commit(self, outcomes: dict[int, Outcome]) -> None:
        pending = self.ingest.take()
        self._check_acks(pending, outcomes)
        parts = pending.split() if pending.urgent else (pending,)
        for part in parts:
            if not (part.rows() or part.replies or part.seen or part.unprovisioned):
                continue
            commit = BatchCommit(part)
            try:
                commit.run(self.store)
                commit.settle(self.ingest.metrics, now=self.now)
            except Exception as exc:
                cases = [o.case for o in outcomes.values()]
                self._crash("commit", cases, exc, traceback.format_exc())
                self.oracle.resync()
                return
            self.oracle.check_reports(part.outbox)
        self.oracle.check_batch(outcomes)
        self._batches += 1
        if self.restart_every and self._batches % self.restart_every == 0:
            self._restart()

    def _restart(self) -> None:
        """The hub restarts: a new ``Ingest`` knows only what the store kept, loaded the way
        :meth:`hub.runtime.pipeline.Pipeline.prepare` loads it (registry, device states, the
        ``seq`` of the last day), so duplicates are still caught through the real store."""
        ingest = Ingest(metrics=self.ingest.metrics, clock=lambda: self.now)
        try:
            ingest.set_devices(self.store.list_devices())
            ingest.seed(self.store.device_states(), self.store.recent_seqs(self.now - RECENT_S))
        except Exception as exc:
            self._crash("restart", [], exc, traceback.format_exc())
            return
        self.ingest = ingest
        self.tally.restarts += 1

    def _check_acks(self, pending: Pending, outcomes: dict[int, Outcome]) -> None:
        """Every QoS 1 input is acknowledged once (at once, or after the commit: alarm-class
        messages and telemetry alike), QoS 0 never: an input never acknowledged would hold
        the broker's in-flight window for good."""
        acked: dict[int, int] = {}
        for msg in (*self.ingest.ack_now, *pending.acks, *pending.telemetry_acks):
            acked[id(msg)] = acked.get(id(msg), 0) + 1
        self.ingest.ack_now.clear()
        for i, out in outcomes.items():
            want = 1 if out.case.qos > 0 and out.kind != "crashed" else 0
            if (got := acked.get(id(out.case), 0)) != want:
                self.tally.violation(f"input {i} ({out.case.how}): acked {got}x, not {want}x")

    def _crash(self, where: str, cases: list[Case], exc: BaseException | None, tb: str) -> None:
        self.tally.crashes += 1
        self.corpus.add(Crash(self.backend, where, cases, repr(exc) if exc else "", tb))
