"""Splitting a refused batch (hub.runtime.poison) against a fake store that refuses chosen
rows: the refused rows are found in few transactions, every other row is committed exactly
once and in order, an outage half-way resumes where it stopped, and the refused messages
become dead letters, error reports and counts."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import pytest

from hub.errors import StoreRefused, StoreUnavailable
from hub.ingest.core import Ingest, Pending
from hub.metrics import HubMetrics
from hub.runtime.poison import BatchCommit, SplitWrite, rows_of, storable
from hub.store.base import DeadLetter, Device, DeviceState, IngestBatch, TelemetryRow
from tests.helpers.messages import NOW, Msg


class FakeStore:
    """Commits a batch unless it holds a refused row (by identity), or the store is down."""

    def __init__(self, refuse: list[Any] = (), down_at: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.refuse = {id(r) for r in refuse}
        self.down_at = down_at
        self.calls = 0
        self.committed: list[Any] = []

    def write_batch(self, batch: IngestBatch) -> list[int]:
        self.calls += 1
        if self.calls in self.down_at:
            raise StoreUnavailable("write batch: connection lost")
        rows = [row for _, row in rows_of(batch)]
        if any(id(r) in self.refuse for r in rows):
            raise StoreRefused("write batch: invalid byte sequence")
        self.committed += rows
        return []


def tel(seq: int) -> TelemetryRow:
    return TelemetryRow("w-1", seq, NOW + seq, NOW + seq, {"hr": 70.0})


def test_one_poison_row_costs_logarithmically_many_transactions() -> None:
    rows = [tel(i) for i in range(256)]
    store = FakeStore(refuse=[rows[137]])
    split = SplitWrite(IngestBatch(telemetry=rows))
    split.run(store)  # type: ignore[arg-type]

    assert split.refused == [("telemetry", rows[137])]
    assert store.committed == rows[:137] + rows[138:]  # each once, in batch order
    assert split.transactions <= 2 * math.log2(256) + 1
    assert "invalid byte sequence" in str(split.error)


def test_several_poison_rows_of_every_kind_are_all_found() -> None:
    rows = [tel(i) for i in range(10)]
    letter = DeadLetter(NOW, "carehub/v1/devices/w-1/telemetry", b"{", "json_invalid", "x", "w-1")
    seen = DeviceState("w-1", last_seen_at=NOW)
    batch = IngestBatch(telemetry=rows, dead_letters=[letter], seen=[seen])
    store = FakeStore(refuse=[rows[0], rows[9], seen])
    split = SplitWrite(batch)
    split.run(store)  # type: ignore[arg-type]

    assert split.refused == [("telemetry", rows[0]), ("telemetry", rows[9]), ("seen", seen)]
    assert store.committed == [*rows[1:9], letter]


def test_a_clean_batch_is_one_transaction() -> None:
    rows = [tel(i) for i in range(5)]
    store = FakeStore()
    split = SplitWrite(IngestBatch(telemetry=rows))
    split.run(store)  # type: ignore[arg-type]
    assert (split.refused, split.transactions, store.committed) == ([], 1, rows)


def test_an_outage_half_way_resumes_without_writing_anything_twice() -> None:
    rows = [tel(i) for i in range(32)]
    store = FakeStore(refuse=[rows[20]], down_at={3, 4})
    split = SplitWrite(IngestBatch(telemetry=rows))
    with pytest.raises(StoreUnavailable):
        split.run(store)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable):  # still down: the same part again
        split.run(store)  # type: ignore[arg-type]
    split.run(store)  # type: ignore[arg-type]

    assert split.refused == [("telemetry", rows[20])]
    assert store.committed == rows[:20] + rows[21:]


def _pending(*msgs: Msg) -> Pending:
    ingest = Ingest(metrics=HubMetrics(), clock=lambda: NOW)
    ingest.set_devices([Device("w-1", "wearable"), Device("w-2", "wearable")])
    for msg in msgs:
        ingest.handle(msg)
    return ingest.take()


def _event(device: str, seq: int, kind: str = "sos", **extra: Any) -> Msg:
    body = {"ts": NOW, "seq": seq, "type": kind, **extra}
    return Msg(f"carehub/v1/devices/{device}/event", json.dumps(body).encode())


def test_refused_messages_become_dead_letters_reports_and_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison, sos = _event("w-1", 1, "door", open=True, door="front"), _event("w-2", 7)
    pending = _pending(poison, sos)
    refused_row = pending.events[0]
    store = FakeStore(refuse=[refused_row])
    metrics = HubMetrics()
    commit = BatchCommit(pending)
    commit.run(store)  # type: ignore[arg-type]
    commit.settle(metrics, now=NOW + 1)

    [letter] = [r for r in store.committed if isinstance(r, DeadLetter)]
    assert letter == DeadLetter(
        NOW, poison.topic, poison.payload, "store_refused", letter.detail, "w-1"
    )
    assert "refused" in letter.detail and "Error" not in letter.detail  # our words only
    assert [a.device.id for a in pending.accepted] == ["w-2"]  # the SOS is still observed
    assert sos in pending.acks and poison in pending.acks  # both acknowledged after commit
    [report] = pending.outbox
    assert report.topic == "carehub/v1/devices/w-1/errors"
    assert json.loads(report.payload) | {"ts": 0} == {
        "code": "store_refused", "severity": "error", "detail": letter.detail,
        "topic": poison.topic, "seq": 1, "ts": 0, "dead_letter": True, "suppressed": 0,
        "contract": "v1",
    }  # fmt: skip
    assert metrics.store_refused.labels("events")._value.get() == 1
    assert metrics.refused.labels("store_refused")._value.get() == 1
    assert metrics.dead_letters._value.get() == 1
    logged = [r for r in caplog.records if r.name == "hub.runtime.poison"]
    assert len(logged) == 1  # once per batch, whatever the number of transactions
    assert "1 events" in logged[0].getMessage()


def test_a_refused_dead_letter_is_kept_with_its_text_made_storable() -> None:
    letter = DeadLetter(NOW, "carehub/v1/\x00/x", b"\x00", "topic_invalid", "bad \x00", None)
    pending = Pending(dead_letters=[letter])
    store = FakeStore(refuse=[letter])
    commit = BatchCommit(pending)
    commit.run(store)  # type: ignore[arg-type]
    commit.settle(HubMetrics(), now=NOW)

    [kept] = store.committed
    assert kept == DeadLetter(
        NOW, "carehub/v1/\ufffd/x", b"\x00", "topic_invalid", "bad \ufffd", None
    )
    assert pending.outbox == []  # no device to tell


@pytest.mark.allow_error_logs
def test_a_dead_letter_the_store_refuses_too_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class RefusesAllLetters(FakeStore):
        def write_batch(self, batch: IngestBatch) -> list[int]:
            if batch.dead_letters:
                raise StoreRefused("write batch: no")
            return super().write_batch(batch)

    pending = _pending(_event("w-1", 1), _event("w-2", 2))
    store = RefusesAllLetters(refuse=[pending.events[0]])
    commit = BatchCommit(pending)
    commit.run(store)  # type: ignore[arg-type]
    commit.settle(HubMetrics(), now=NOW)

    assert [r.device_id for r in store.committed if hasattr(r, "type")] == ["w-2"]
    assert any(r.levelno == logging.ERROR and "lost" in r.getMessage() for r in caplog.records)


def test_storable_text_keeps_everything_but_nul_and_lone_surrogates() -> None:
    assert storable("房间\t1\n") == "房间\t1\n"
    assert storable("a\x00b\ud800") == "a\ufffdb?"
