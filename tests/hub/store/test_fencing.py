"""Fenced commits of cluster workers (PostgreSQL): a stale epoch writes nothing."""

from __future__ import annotations

import pytest

from hub.errors import Fenced
from hub.store.base import EventRow, FindingRow, IngestBatch
from hub.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


def _event(seq: int) -> EventRow:
    return EventRow("w-1", seq, 1000.0 + seq, 1000.5 + seq, "sos", {})


def _finding(at: float) -> FindingRow:
    return FindingRow(None, "w-1", "sos", "high", at, at + 0.1, {}, {})


@pytest.fixture
def fenced_store(pg_store: PostgresStore) -> PostgresStore:
    from hub.store.base import Device

    pg_store.add_device(Device("w-1", "wearable"))
    return pg_store


def test_the_current_epoch_commits_and_advances_the_sequence(fenced_store: PostgresStore) -> None:
    store = fenced_store
    assert store.claim_partition(3, 10, "worker-a", 1.0)
    store.write_batch_fenced(IngestBatch(events=[_event(1)]), {3: (10, 41)})
    store.write_batch_fenced(IngestBatch(events=[_event(2)]), {3: (10, 40)})
    assert store.partition_fences() == {3: (10, "worker-a", 41)}
    assert len(store.events("w-1")) == 2


def test_a_stale_epoch_is_refused_and_writes_nothing(fenced_store: PostgresStore) -> None:
    store = fenced_store
    assert store.claim_partition(3, 10, "worker-a", 1.0)
    assert store.claim_partition(3, 12, "worker-b", 2.0)  # b took over
    assert not store.claim_partition(3, 11, "worker-c", 3.0)  # an older claim loses
    with pytest.raises(Fenced) as caught:
        store.write_batch_fenced(IngestBatch(events=[_event(1)]), {3: (10, 50)})
    assert caught.value.partition == 3
    with pytest.raises(Fenced):
        store.write_findings_fenced([_finding(1001.0)], {3: (10, 50)})
    assert store.events("w-1") == []
    assert store.findings(since=0) == []
    assert store.partition_fences() == {3: (12, "worker-b", 0)}


def test_findings_already_stored_are_skipped(fenced_store: PostgresStore) -> None:
    store = fenced_store
    assert store.claim_partition(0, 1, "a", 1.0)
    first = store.write_findings_fenced([_finding(1001.0)], {0: (1, 5)})
    again = store.write_findings_fenced([_finding(1001.0), _finding(1002.0)], {0: (1, 6)})
    assert first[0] is not None
    assert again[0] is None
    assert again[1] is not None
    assert len(store.findings(since=0)) == 2


def test_a_claim_ends_a_frozen_previous_owners_transaction(
    fenced_store: PostgresStore, pg_url: str
) -> None:
    """The previous owner stopped in the middle of a commit holds the partition's row: the
    new owner's claim ends that owner's session instead of waiting for it to resume, and
    what the frozen transaction held is rolled back (never acknowledged: read again)."""
    import psycopg

    from hub.store.postgres.fencing import worker_session_url

    store = fenced_store
    assert store.claim_partition(3, 10, "worker-a", 1.0)
    frozen = psycopg.connect(worker_session_url(pg_url, "worker-a"))
    frozen.execute(  # the fence check of a commit that never finishes
        "UPDATE partition_fence SET committed_seq = 99 WHERE partition = 3 AND epoch = 10"
    )
    bystander = psycopg.connect(worker_session_url(pg_url, "worker-c"))
    bystander.execute("SELECT 1")  # another worker, also inside a transaction
    try:
        assert store.claim_partition(3, 11, "worker-b", 2.0)
        assert store.partition_fences() == {3: (11, "worker-b", 0)}
        with pytest.raises(psycopg.OperationalError):
            frozen.execute("SELECT 1")  # its session was ended
        assert bystander.execute("SELECT 1").fetchone() == (1,)  # not the owner: left alone
    finally:
        frozen.close()
        bystander.close()
