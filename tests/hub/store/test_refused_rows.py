"""Rows the database refuses, on both back-ends: ``write_batch`` raises StoreRefused (not an
outage to retry), and a batch holding such a row next to good ones (an SOS among them) is
split by hub.runtime.poison: the good rows are stored, the bad one is a dead letter with
code ``store_refused`` and its raw payload, and nothing is raised."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from hub.errors import StoreRefused, StoreUnavailable
from hub.ingest.core import Origin, Pending
from hub.metrics import HubMetrics
from hub.runtime.poison import BatchCommit
from hub.store.base import (
    CommandReplyRow,
    DeadLetter,
    EventRow,
    IngestBatch,
    StatusChange,
    Store,
    TelemetryRow,
)
from tests.helpers.messages import Msg
from tests.helpers.registry import add_wearers

T0 = 1_767_225_600.0


class Poison(NamedTuple):
    field: str
    row: Any
    sqlite_refuses: bool
    """SQLite keeps NUL in text and any integer in JSON text; PostgreSQL refuses both."""


POISONS = {
    "seq beyond 64 bits": Poison(
        "events", EventRow("w-1", 2**64, T0, T0, "door", {"open": True}), True
    ),
    "NUL in firmware": Poison(
        "status", StatusChange("w-1", True, T0, "birth", {"firmware": "2.1\x000"}), False
    ),
    "NUL in a reply": Poison(
        "replies", CommandReplyRow("w-1", "c-1", T0, T0, "failed", "bad\x00"), False
    ),
    "integer beyond 64 bits in ext": Poison(
        "telemetry", TelemetryRow("w-1", 9, T0, T0, {"hr": 70.0}, ext={"n": 10**30}), False
    ),
}


@pytest.fixture
def home(store: Store) -> Store:
    add_wearers(store, 2, created_at=T0)
    return store


@pytest.mark.parametrize("case", POISONS.values(), ids=POISONS.keys())
def test_write_batch_refuses_the_data_it_cannot_keep(home: Store, case: Poison) -> None:
    batch = IngestBatch(**{case.field: [case.row]})
    if home.backend == "sqlite" and not case.sqlite_refuses:
        home.write_batch(batch)  # kept as it is: nothing to refuse
        return
    with pytest.raises(StoreRefused) as caught:
        home.write_batch(batch)
    assert not isinstance(caught.value, StoreUnavailable)
    home.write_batch(IngestBatch(events=[EventRow("w-2", 1, T0, T0, "sos", {})]))  # still fine
    assert [e.type for e in home.events()] == ["sos"]


@pytest.mark.parametrize("case", POISONS.values(), ids=POISONS.keys())
def test_a_refused_row_is_split_out_and_the_good_rows_are_stored(home: Store, case: Poison) -> None:
    sos = EventRow("w-2", 5, T0, T0 + 0.5, "sos", {"press": "long"})
    good = [TelemetryRow("w-2", seq, T0 + seq, T0 + seq, {"hr": 70.0 + seq}) for seq in (1, 2, 3)]
    status = StatusChange("w-2", True, T0, "birth", {"firmware": "3.0"})
    bad_msg = Msg("carehub/v1/devices/w-1/x", b'{"raw": "as \\u0000 sent"}')
    pending = Pending(telemetry=list(good), events=[sos], status=[status])
    getattr(pending, case.field).append(case.row)
    pending.origins[id(case.row)] = Origin(bad_msg, None)

    commit = BatchCommit(pending)
    commit.run(home)  # raises nothing
    commit.settle(HubMetrics(), now=T0)

    refused = home.backend != "sqlite" or case.sqlite_refuses
    assert [(e.device_id, e.type) for e in home.events(device_id="w-2")] == [("w-2", "sos")]
    assert [r.seq for r in home.telemetry("w-2")] == [1, 2, 3]
    assert home.get_device("w-2").firmware == "3.0"
    assert home.get_device_state("w-2").online is True
    letters = home.dead_letters()
    if not refused:
        assert letters == []
        return
    [letter] = letters
    assert (letter.code, letter.device_id, letter.topic, letter.payload) == (
        "store_refused", "w-1", bad_msg.topic, bad_msg.payload,
    )  # fmt: skip
    assert home.get_device("w-1").firmware is None
    assert home.events(device_id="w-1") == []
    assert json.loads(pending.outbox[0].payload)["code"] == "store_refused"


def test_a_dead_letter_with_nul_in_its_text_is_kept(home: Store) -> None:
    """A refusal quoting a topic with NUL (which a lax broker may pass on) can itself be
    refused by PostgreSQL: it is stored with the NUL replaced, payload byte for byte."""
    letter = DeadLetter(T0, "carehub/v1/\x00", b"{\x00}", "topic_invalid", "topic \x00", None)
    commit = BatchCommit(Pending(dead_letters=[letter]))
    commit.run(home)
    commit.settle(HubMetrics(), now=T0)

    [kept] = home.dead_letters()
    assert kept.payload == b"{\x00}"
    assert kept.code == "topic_invalid"
    expected = "carehub/v1/\x00" if home.backend == "sqlite" else "carehub/v1/\ufffd"
    assert kept.topic == expected
