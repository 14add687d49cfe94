"""Dead letters are bounded: a prefix of a large payload with its size and hash, deleted
by age and beyond a total count."""

from __future__ import annotations

import hashlib

from hub.store.base import DeadLetter, IngestBatch, Store

T0 = 1_767_225_600.0
TOPIC = "carehub/v1/devices/w-1/telemetry"


def test_a_prefix_is_kept_with_the_size_and_hash_of_the_whole(store: Store) -> None:
    payload = b"x" * 100_000
    store.write_batch(
        IngestBatch(dead_letters=[DeadLetter.bounded(T0, TOPIC, payload, "payload_too_large", "")])
    )
    [kept] = store.dead_letters()
    assert kept.payload == payload[:4096]
    assert (kept.size, kept.sha256) == (100_000, hashlib.sha256(payload).hexdigest())


def test_retention_deletes_by_age_then_beyond_the_cap(store: Store) -> None:
    letters = [DeadLetter(T0 + i, TOPIC, b"{", "json_invalid", f"n{i}") for i in range(10)]
    store.write_batch(IngestBatch(dead_letters=letters))
    pruned = store.prune_dead_letters(before=T0 + 3, keep=5)
    assert (pruned.aged, pruned.capped) == (3, 2)
    assert [d.detail for d in store.dead_letters()] == [f"n{i}" for i in range(9, 4, -1)]
    again = store.prune_dead_letters(before=T0, keep=5)
    assert (again.aged, again.capped) == (0, 0)
