"""What must hold after each batch and at the end of a run, and the tally of a run.

Per batch (:meth:`Oracle.check_batch`), against the dead letters read back from the
database: each refused input has exactly one, with the code ingest gave it, a detail and its
raw payload (whole, or its first 4 KiB and the whole size), except refusals that come in
floods (``FLOOD_CODES``) and replays of a retained message refused before, which may have
none and are then counted as not kept; an accepted input has one only when the store refused its row
(``store_refused``, then it is no longer expected among the rows); no other input has one;
a sample of stored rows reads back as ingest built them; and every error report the hub
would publish is a contract ``ErrorReport`` on an errors topic. At the end
(:meth:`Oracle.check_end`): rows per class and device equal what was accepted, and the
hub's own metrics (dead letters, duplicates, refusals by reason, acceptances by class) agree
with the tally.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hub.contract.codes import ALL_CODES, ErrorCode
from hub.contract.models import ErrorReport
from hub.ingest.core import FLOOD_CODES, Outbound
from hub.metrics import HubMetrics
from hub.store.base import (
    DEAD_LETTER_KEEP_BYTES,
    CommandReplyRow,
    EventRow,
    Store,
    TelemetryRow,
)
from tests.fuzz.backends import TABLES, Readback
from tests.fuzz.generate import Case, index_of

CODES = frozenset(c.value for c in ErrorCode)
MAX_KEPT = 50
"""Violations kept word for word (all are counted)."""


@dataclass(slots=True)
class Outcome:
    """What ingest made of one input."""

    kind: str
    """``refused``, ``accepted``, ``duplicate``, ``echo`` (the hub's own topics) or
    ``unchanged`` (a retained status replay that changes nothing)."""
    case: Case
    code: str = ""
    cls: str = ""
    row: Any = None
    stored: bool = True
    """An accepted row is expected in the store (False: its key was taken before)."""
    lettered: bool = False


@dataclass(slots=True)
class Tally:
    backend: str
    inputs: int = 0
    seconds: float = 0.0
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    store_refused: Counter[str] = field(default_factory=Counter)
    key_taken: Counter[str] = field(default_factory=Counter)
    other: Counter[str] = field(default_factory=Counter)
    """Duplicates, echoes, unchanged status replays."""
    restarts: int = 0
    crashes: int = 0
    violations: int = 0
    kept: list[str] = field(default_factory=list)

    def violation(self, text: str) -> None:
        self.violations += 1
        if len(self.kept) < MAX_KEPT:
            self.kept.append(text)

    @property
    def rate(self) -> float:
        return self.inputs / self.seconds if self.seconds else 0.0


class Oracle:
    def __init__(self, tally: Tally, store: Store, readback: Readback, seed: int) -> None:
        self.tally = tally
        self.store = store
        self.readback = readback
        self.expected: Counter[tuple[str, str]] = Counter()  # (class, device) → rows
        self.last_letter = 0
        self.resynced = False
        self._rng = random.Random(seed)

    def resync(self) -> None:
        """After a crashed commit its batch cannot be judged: carry on from what the store
        holds now (the crash is counted; the metrics no longer match the run)."""
        self.resynced = True
        self.expected = Counter(
            {(cls, device): n for cls, table in TABLES.items()
             for device, n in self.readback.rows_per_device(table).items()}
        )  # fmt: skip
        letters = self.readback.letters_after(self.last_letter)
        if letters:
            self.last_letter = letters[-1].id

    def accepted(self, out: Outcome) -> None:
        if out.stored:
            self.expected[out.cls, out.row.device_id] += 1

    def check_batch(self, outcomes: dict[int, Outcome]) -> None:
        t = self.tally
        for letter in self.readback.letters_after(self.last_letter):
            self.last_letter = letter.id
            i = index_of(letter.received_at)
            out = outcomes.get(i)
            where = f"input {i} ({out.case.how if out else '?'})"
            if letter.code not in CODES or not letter.detail:
                t.violation(f"{where}: dead letter {letter.id} code {letter.code!r}, no detail")
            if out is None or out.lettered or out.kind not in ("refused", "accepted"):
                what = "a second" if out and out.lettered else "a"
                t.violation(f"{where}: {what} dead letter ({letter.code}) for a {out and out.kind}")
                continue
            out.lettered = True
            size = len(out.case.payload)
            kept = min(size, DEAD_LETTER_KEEP_BYTES)
            whole = size if size > kept else None
            if (letter.payload_size, letter.whole_size) != (kept, whole):
                t.violation(
                    f"{where}: dead letter keeps {letter.payload_size} bytes of "
                    f"{letter.whole_size}, not {kept} of {whole}"
                )
            if out.kind == "refused" and letter.code != out.code:
                t.violation(f"{where}: refused as {out.code}, dead letter says {letter.code}")
            elif out.kind == "accepted":
                if letter.code != ErrorCode.STORE_REFUSED:
                    t.violation(f"{where}: accepted, yet a dead letter {letter.code}")
                t.store_refused[out.cls] += 1
                if out.stored:
                    self.expected[out.cls, out.row.device_id] -= 1
                    out.stored = False
        for i, out in outcomes.items():
            if out.kind == "refused" and not out.lettered:
                if out.code in FLOOD_CODES or out.case.retain:
                    t.other["not kept"] += 1  # checked against the hub's count at the end
                else:
                    t.violation(f"input {i} ({out.case.how}): refused {out.code}, no dead letter")
        self._round_trip(outcomes)

    def check_reports(self, outbox: list[Outbound]) -> None:
        """What the hub would publish back is a contract error report on an errors topic."""
        for out in outbox:
            try:
                report = ErrorReport.model_validate_json(out.payload)
            except ValidationError as exc:
                self.tally.violation(f"report to {out.topic!r} breaks the contract: {exc}")
                continue
            if report.code not in ALL_CODES or not out.topic.endswith("/errors"):
                self.tally.violation(f"report {report.code!r} published on {out.topic!r}")

    def _round_trip(self, outcomes: dict[int, Outcome]) -> None:
        """A few stored rows of each class read back through the store as ingest built them."""
        by_cls: dict[str, list[Outcome]] = {}
        for out in outcomes.values():
            if out.kind == "accepted" and out.stored and out.cls != "status":
                by_cls.setdefault(out.cls, []).append(out)
        for cls, outs in sorted(by_cls.items()):
            for out in self._rng.sample(outs, min(2, len(outs))):
                got = _read(self.store, out.row)
                if got != _comparable(out.row):
                    i = index_of(out.case.received_at)
                    self.tally.violation(
                        f"input {i} ({out.case.how}): {cls} stored as {got!r}, "
                        f"accepted as {_comparable(out.row)!r}"
                    )

    def check_end(self, metrics: HubMetrics) -> None:
        t = self.tally
        for cls, table in TABLES.items():
            stored = self.readback.rows_per_device(table)
            want = {d: n for (c, d), n in self.expected.items() if c == cls and n}
            for device in sorted(set(stored) | set(want)):
                if stored.get(device, 0) != want.get(device, 0):
                    t.violation(
                        f"{table}: {stored.get(device, 0)} rows of {device}, "
                        f"{want.get(device, 0)} accepted"
                    )
        if self.resynced:
            return
        sample = metrics.registry.get_sample_value
        checks: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {
            ("carehub_dead_letters_total", ()): self.readback.dead_letter_count(),
            ("carehub_duplicates_dropped_total", ()): t.other["duplicate"],
        }
        not_kept = sum(
            sample("carehub_dead_letters_dropped_total", {"reason": r}) or 0
            for r in ("flood", "retained")
        )
        if not_kept != t.other["not kept"]:
            t.violation(
                f"the hub counts {not_kept:g} refusals not kept, the run {t.other['not kept']}"
            )
        for code in CODES:
            n = t.refused[code] + (
                t.store_refused.total() if code == ErrorCode.STORE_REFUSED else 0
            )
            checks["carehub_messages_refused_total", (("reason", code),)] = n
        for cls in TABLES:  # counted when ingest takes it, even if the store refuses it later
            n = t.accepted[cls] + (t.other["unchanged"] if cls == "status" else 0)
            checks["carehub_messages_accepted_total", (("type", cls),)] = n
        for (name, labels), want_n in checks.items():
            if (got := sample(name, dict(labels)) or 0) != want_n:
                t.violation(f"metric {name}{dict(labels)} is {got:g}, the run counted {want_n}")


def _comparable(row: Any) -> tuple[Any, ...]:
    if isinstance(row, TelemetryRow):
        return (row.seq, row.values, row.quality, row.acc, row.ext)
    if isinstance(row, EventRow):
        return (row.seq, row.type, row.data)
    assert isinstance(row, CommandReplyRow)
    return (row.command_id, row.status, row.detail)


def _read(store: Store, row: Any) -> tuple[Any, ...] | None:
    """``row`` as the store gives it back, matched by device, time and seq (several rows
    may match when times differ by less than ``near``: any equal one will do)."""
    near = 1e-3  # PostgreSQL keeps microseconds
    if isinstance(row, TelemetryRow):
        found = store.telemetry(row.device_id, since=row.ts - near, until=row.ts + near)
    elif isinstance(row, EventRow):
        found = store.events(row.device_id, since=row.received_at - near, limit=2000)
    else:
        found = store.command_replies(row.device_id, row.command_id)
    want = _comparable(row)
    close = [
        _comparable(got) for got in found
        if abs(got.ts - row.ts) < near and abs(got.received_at - row.received_at) < near
    ]  # fmt: skip
    matching = [c for c in close if c[0] == want[0]]
    return want if want in matching else (matching or [None])[0]
