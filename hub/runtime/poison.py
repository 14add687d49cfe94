"""Poison rows: one message the store refuses never stops ingestion.

When the store refuses a batch (:class:`~hub.errors.StoreRefused`: the data itself, not an
outage), retrying it can only fail again, and an alarm-class batch that never commits holds
up every SOS behind it. So the batch is bisected: each half is written in a transaction of
its own and a refused half is split again, until each refused row stands alone. One poison
row among n costs about 2·log2(n) transactions, not n, and the good rows keep the batch's
order. Each refused message is kept as a dead letter with code ``store_refused`` and its raw
payload, and reported to its device; the pipeline then acknowledges every message of the
batch (nothing is lost: the refused ones are dead letters) and tells the observers of the
stored ones only.

The work is resumable. When the store becomes unavailable half-way (any other
:class:`~hub.errors.StoreError`), the error leaves :meth:`BatchCommit.run`, the pipeline
backs off and calls it again, and it carries on with the parts not yet committed: no half is
written twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from hub.contract.codes import ErrorCode
from hub.contract.models import ErrorReport
from hub.contract.topics import errors_topic_for
from hub.errors import StoreRefused
from hub.ingest.core import Outbound, Pending
from hub.metrics import HubMetrics
from hub.store.base import DeadLetter, IngestBatch, Store

log = logging.getLogger(__name__)

Row = tuple[str, Any]
"""A row of a batch: the :class:`IngestBatch` field it belongs to, and the row."""

FIELDS = ("telemetry", "events", "dead_letters", "status", "replies", "seen", "unprovisioned")
MESSAGE_FIELDS = frozenset({"telemetry", "events", "status", "replies"})
"""Rows that are a device's message; the others (last-seen marks, the unprovisioned list) are
derived from messages and written again with the next one, so a refused one is dropped."""

REFUSED_DETAIL = (
    "the hub's database refused to keep this message (for example a character it cannot "
    "store); it is kept as a dead letter and will be looked at"
)
"""What the dead letter and the device are told: our words, never the driver's."""


class SplitWrite:
    """Writes one batch; when the store refuses it, bisects it into transactions that commit
    and rows that the store refuses (:attr:`refused`, in batch order)."""

    def __init__(self, batch: IngestBatch) -> None:
        self.batch = batch
        self._whole: IngestBatch | None = batch
        self._todo: list[list[Row]] = []  # a stack: the earlier half on top
        self.refused: list[Row] = []
        self.transactions = 0
        self.error: StoreRefused | None = None
        """The first refusal, for the log."""

    def run(self, store: Store) -> None:
        """Write what is left; raises what the store raises, except :class:`StoreRefused`."""
        if self._whole is not None:
            if self._write(store, self._whole):
                self._split(rows_of(self._whole))
            self._whole = None
        while self._todo:
            part = self._todo[-1]
            refused = self._write(store, batch_of(part))
            self._todo.pop()  # only once it is settled: an outage above leaves it on the stack
            if refused:
                self._split(part)

    def _write(self, store: Store, batch: IngestBatch) -> bool:
        """True when the store refused ``batch``."""
        self.transactions += 1
        try:
            store.write_batch(batch)
        except StoreRefused as exc:
            self.error = self.error or exc
            return True
        return False

    def _split(self, rows: list[Row]) -> None:
        if len(rows) == 1:
            self.refused.append(rows[0])
        elif rows:
            mid = len(rows) // 2
            self._todo += [rows[mid:], rows[:mid]]


def rows_of(batch: IngestBatch) -> list[Row]:
    return [(name, row) for name in FIELDS for row in getattr(batch, name)]


def batch_of(rows: list[Row]) -> IngestBatch:
    parts: dict[str, list[Any]] = {name: [] for name in FIELDS}
    for name, row in rows:
        parts[name].append(row)
    return IngestBatch(**parts)


def storable(text: str) -> str:
    """``text`` as any store keeps it: PostgreSQL refuses NUL in ``text`` (so it becomes
    U+FFFD, the replacement character) and a lone surrogate cannot be encoded at all.

    >>> storable("carehub/v1/devices/w-1\\x00/status")
    'carehub/v1/devices/w-1\\ufffd/status'
    """
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


class BatchCommit:
    """Commits a pending batch, splitting out what the store refuses, then stores the
    refused messages as dead letters. :meth:`run` is called in a worker thread until it
    returns; :meth:`settle` then tells the pending batch what became of it."""

    def __init__(self, pending: Pending) -> None:
        self.pending = pending
        self.main = SplitWrite(pending.batch())
        self.letters: list[DeadLetter] = []
        self._letters: SplitWrite | None = None

    def run(self, store: Store) -> None:
        self.main.run(store)
        if self.main.refused and self._letters is None:
            letters = (self._letter(name, row) for name, row in self.main.refused)
            self.letters = [d for d in letters if d is not None]
            self._letters = SplitWrite(IngestBatch(dead_letters=self.letters))
        if self._letters is not None:
            self._letters.run(store)

    def _letter(self, name: str, row: Any) -> DeadLetter | None:
        if name == "dead_letters":
            # a refusal whose own text the store cannot keep (a NUL in the topic): keep it
            # with that text made storable; the payload is bytea/BLOB, which takes any byte
            return DeadLetter(
                row.received_at, storable(row.topic), row.payload, row.code,
                storable(row.detail), row.device_id, size=row.size, sha256=row.sha256,
            )  # fmt: skip
        if name not in MESSAGE_FIELDS:
            return None
        origin = self.pending.origins.get(id(row))
        if origin is None:  # a row made outside Ingest: keep what there is of it
            at = getattr(row, "received_at", None) or row.at  # a status change has only `at`
            topic, payload = f"{name}/{row.device_id}", repr(row).encode()
        else:
            msg = origin.message
            at, topic, payload = msg.received_at, msg.topic, bytes(msg.payload)
        # The raw payload is kept byte for byte: the column is bytea/BLOB, so the character
        # that the text or jsonb column refused is no problem there.
        return DeadLetter.bounded(
            at, storable(topic), payload, ErrorCode.STORE_REFUSED.value, REFUSED_DETAIL,
            row.device_id,
        )  # fmt: skip

    def settle(self, metrics: HubMetrics, now: float) -> None:
        """Drop the refused messages from what the observers are told, queue their error
        reports, count them and log the batch once."""
        refused = self.main.refused
        if not refused:
            return
        pending = self.pending
        found = (pending.origins.get(id(row)) for name, row in refused if name in MESSAGE_FIELDS)
        origins = [o for o in found if o is not None]
        hidden = {id(o.accepted) for o in origins if o.accepted is not None}
        pending.accepted = [a for a in pending.accepted if id(a) not in hidden]
        for origin in origins:
            report = _report(origin.message.topic, getattr(origin.accepted, "message", None), now)
            if report is not None:
                pending.outbox.append(report)
        kinds = Counter(name for name, _ in refused)
        for name, n in kinds.items():
            metrics.store_refused.labels(name).inc(n)
        messages = sum(n for name, n in kinds.items() if name in MESSAGE_FIELDS)
        if messages:
            metrics.refused.labels(ErrorCode.STORE_REFUSED.value).inc(messages)
        lost = self._letters.refused if self._letters is not None else []
        # the refusals Ingest made are counted already; only the new letters count here
        new = [d for d in self.letters if d.code == ErrorCode.STORE_REFUSED]
        new_lost = [d for _, d in lost if d.code == ErrorCode.STORE_REFUSED]
        metrics.dead_letters.inc(len(new) - len(new_lost))
        log.warning(
            "the store refused %s of a batch of %d rows in %d transactions (%s); "
            "kept as dead letters with code %s",
            ", ".join(f"{n} {name}" for name, n in sorted(kinds.items())),
            len(pending.batch()), self.main.transactions, self.main.error,
            ErrorCode.STORE_REFUSED.value,
        )  # fmt: skip
        for _, letter in lost:
            log.error("the store refused even the dead letter of %r; it is lost", letter.topic)


def _report(topic: str, message: Any, now: float) -> Outbound | None:
    target = errors_topic_for(topic)
    if target is None:
        return None
    seq = getattr(message, "seq", None)
    report = ErrorReport(
        code=ErrorCode.STORE_REFUSED.value, detail=REFUSED_DETAIL, topic=storable(topic)[:300],
        seq=seq if isinstance(seq, int) else None, ts=round(now, 3),
    )  # fmt: skip
    return Outbound(target, report.model_dump_json().encode(), qos=1, droppable=True)
