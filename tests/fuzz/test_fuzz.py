"""A short fuzzing pass on both back-ends (``make fuzz`` runs 10⁶ inputs), and proof that
the fuzzer's oracles catch what they are there to catch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hub.contract.codes import ErrorCode
from hub.errors import StoreRefused
from hub.ingest import core
from hub.store.base import IngestBatch, Store
from tests.fuzz.corpus import Corpus, load
from tests.fuzz.generate import Case, Generator, received_at
from tests.fuzz.run import fuzz, summary

SHORT = 20_000
NEVER_FROM_INGEST = {ErrorCode.INTERNAL_ERROR, ErrorCode.STORE_REFUSED}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """A back-end name and, for PostgreSQL, an empty throwaway database (the fixture skips
    without a server, and fails with ``CI=true``)."""
    if request.param == "postgres":
        make: Callable[[], str] = request.getfixturevalue("new_pg_database")
        return "postgres", make()
    return "sqlite", None


class Wrapped:
    """A store seen through ``write_batch``; everything else passes through."""

    def __init__(self, store: Store, write: Callable[[Store, IngestBatch], list[int]]) -> None:
        self._store = store
        self._write = write

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_batch(self, batch: IngestBatch) -> list[int]:
        return self._write(self._store, batch)


def test_a_short_pass_finds_no_crash_and_every_oracle_holds(
    backend: tuple[str, str | None], tmp_path: Path
) -> None:
    name, pg_url = backend
    corpus = Corpus(tmp_path)
    tally = fuzz(name, SHORT, seed=20260101, corpus=corpus, pg_url=pg_url, restart_every=6)
    assert (tally.crashes, tally.violations) == (0, 0), summary(tally)
    assert (tally.inputs, tally.restarts) == (SHORT, 3)
    # the stream still reaches every refusal ingest makes, every class and the quiet drops
    assert set(tally.refused) == {c.value for c in ErrorCode} - NEVER_FROM_INGEST
    assert set(tally.accepted) == {"telemetry", "event", "status", "reply"}
    assert {"duplicate", "echo", "unchanged"} <= set(tally.other)
    assert not list(tmp_path.iterdir())


def test_the_stream_is_the_same_for_the_same_seed() -> None:
    def digest(seed: int) -> str:
        h = hashlib.sha256()
        for case in Generator(seed).cases(3000):
            h.update(repr(case).encode())
        return h.hexdigest()

    assert digest(7) == digest(7) != digest(8)


def test_a_store_that_loses_dead_letters_is_caught() -> None:
    def lossy(store: Store, batch: IngestBatch) -> list[int]:
        kept = [d for d in batch.dead_letters if d.code != ErrorCode.JSON_INVALID]
        return store.write_batch(replace(batch, dead_letters=kept))

    tally = fuzz("sqlite", 3000, seed=5, wrap=lambda s: Wrapped(s, lossy))
    # each json_invalid refusal the hub kept (the first of each report; repeats are only
    # counted) is missing, and nothing else
    assert tally.refused[ErrorCode.JSON_INVALID] > 0 and tally.violations > 0
    assert tally.kept and all("json_invalid, no dead letter" in v for v in tally.kept)


def test_a_store_that_drops_rows_is_caught() -> None:
    def forgetful(store: Store, batch: IngestBatch) -> list[int]:
        return store.write_batch(replace(batch, replies=[]))

    tally = fuzz("sqlite", 3000, seed=5, wrap=lambda s: Wrapped(s, forgetful))
    assert tally.accepted["reply"] > 0
    assert any(v.startswith("command_replies:") for v in tally.kept)


def test_rows_the_store_refuses_become_store_refused_dead_letters(
    backend: tuple[str, str | None],
) -> None:
    """The poison path: a row the store refuses is split out of its batch and kept as a
    ``store_refused`` dead letter; the oracles expect exactly that."""

    def picky(store: Store, batch: IngestBatch) -> list[int]:
        if any(e.type == "door" for e in batch.events):
            raise StoreRefused("write batch: refused for the test")
        return store.write_batch(batch)

    name, pg_url = backend
    tally = fuzz(name, 3000, seed=5, pg_url=pg_url, wrap=lambda s: Wrapped(s, picky))
    assert (tally.crashes, tally.violations) == (0, 0), summary(tally)
    assert tally.store_refused["event"] > 0


@pytest.mark.allow_error_logs
def test_a_crash_is_counted_kept_and_minimised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = core.decode

    def fragile(msg_type: str, payload: bytes, *, now: float) -> Any:
        if b"boom" in payload:
            raise RuntimeError("a bug in the hub")
        return real(msg_type, payload, now=now)

    monkeypatch.setattr(core, "decode", fragile)
    payload = json.dumps({"ts": received_at(0), "seq": 1, "hr": 70, "ext": {"boom": 1}}).encode()
    cases = [Case("carehub/v1/devices/w-1/telemetry", payload, 0, False, received_at(0), "test")]
    corpus = Corpus(tmp_path)
    tally = fuzz("sqlite", 0, seed=1, corpus=corpus, cases=cases)
    assert (tally.crashes, tally.refused[ErrorCode.INTERNAL_ERROR]) == (1, 1)
    assert (tally.violations, tally.inputs) == (0, 1)
    [written] = corpus.written
    record = json.loads(written.read_text(encoding="utf-8"))
    assert "RuntimeError: a bug in the hub" in record["traceback"]
    assert record["replays_alone"]
    assert [c.payload for c in load(written)] == [b"boom"]  # the minimised input
