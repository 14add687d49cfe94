"""Per-device streaming rules: duplicate window, token bucket, clock offset."""

from __future__ import annotations

import random

import pytest

from hub.ingest.dedup import SeqWindow
from hub.ingest.ratelimit import TokenBucket
from hub.ingest.skew import ClockOffset


def test_seq_window_matches_a_set_based_reference_on_random_streams() -> None:
    rng = random.Random(7)
    window = SeqWindow(window=64)
    seen: dict[int, int] = {}
    high = None
    for _ in range(5000):
        seq = max(0, (high or 0) + rng.randint(-80, 5))
        digest = rng.choice([1, 1, 1, 2])
        verdict = window.check(seq, digest)
        if seq in seen and (high is None or seq > high - 64 or verdict != "out_of_window"):
            expected = "duplicate" if seen[seq] == digest else "reused"
        elif high is not None and seq <= high - 64:
            expected = "out_of_window"
        else:
            expected = "new"
        if expected == "new":
            seen[seq] = digest
            high = seq if high is None else max(high, seq)
        assert verdict == expected, (seq, high)
    assert window.size <= 64  # memory stays bounded


def test_seq_window_memory_is_fixed_per_device_whatever_it_sent() -> None:
    """A day of a wearable (2,000 messages) costs no more than its first message: the
    window's bit set and digest ring are sized by ``window``, not by the traffic."""
    import sys

    w = SeqWindow(window=1024)
    w.check(1, hash(b"first"))
    first = sys.getsizeof(w._digests) + sys.getsizeof(w._bits)
    for s in range(2, 2002):
        assert w.check(s, hash(s.to_bytes(8, "big"))) == "new"
    later = sys.getsizeof(w._digests) + sys.getsizeof(w._bits)
    assert w.size == 1024
    assert later <= first + 200 < 5_000  # the bit set grows to 1,024 bits, nothing else


def test_seq_window_seeded_from_the_store_treats_those_seqs_as_duplicates() -> None:
    w = SeqWindow(window=8)
    w.seed([3, 5, 6, 20])  # ascending, as the store returns them; 3..6 fall out of the window
    assert w.high == 20 and w.size == 1
    assert w.check(20, 123) == "duplicate"  # no digest known: any content is a duplicate
    assert w.check(12, 1) == "out_of_window"
    assert w.check(19, 1) == "new"
    assert w.check(19, 2) == "reused"
    w2 = SeqWindow(window=8)
    w2.seed([10, 11, 11, 12])
    assert (w2.size, w2.check(11, 7), w2.check(13, 7)) == (3, "duplicate", "new")


def test_seq_window_jump_beyond_the_window_forgets_the_old_numbers() -> None:
    w = SeqWindow(window=4)
    assert [w.check(s, s) for s in (1, 2, 3)] == ["new"] * 3
    assert w.check(100, 100) == "new"
    assert w.size == 1
    assert w.check(97, 97) == "new"  # inside the new window, never seen
    assert w.check(96, 96) == "out_of_window"
    assert w.check(97, 97) == "duplicate"
    assert w.check(97, 5) == "reused"


def test_seq_window_reset_after_reboot() -> None:
    w = SeqWindow(window=8)
    for s in range(100, 110):
        assert w.check(s, s) == "new"
    assert w.check(1, 1) == "out_of_window"
    w.reset()
    assert w.check(1, 1) == "new"


def test_token_bucket_refills_at_rate_and_ignores_a_clock_going_backwards() -> None:
    b = TokenBucket(rate=10.0, burst=5)
    assert sum(b.allow(100.0) for _ in range(10)) == 5
    assert sum(b.allow(99.0) for _ in range(10)) == 0  # backwards: no free tokens
    assert sum(b.allow(100.5) for _ in range(10)) == 5  # 0.5 s x 10/s, capped at burst


def test_clock_offset_estimate_is_the_minimum_delay() -> None:
    rng = random.Random(3)
    est = ClockOffset(samples=8)
    result = None
    for i in range(50):
        rx = 1000.0 + 30 * i
        ts = rx + 45.0 - rng.uniform(0.05, 3.0)  # device 45 s ahead, network delay 0.05-3 s
        result = est.update(ts, rx)
    assert result is not None
    # never more than the true offset less the smallest delay, never worse than the largest
    assert 45.0 - 3.0 <= result <= 45.0 - 0.05


@pytest.mark.parametrize("jump", [-3600.0, 7200.0])
def test_clock_offset_follows_a_device_clock_that_jumps(jump: float) -> None:
    est = ClockOffset(samples=3)
    for i in range(5):
        assert est.update(1000.0 + 30 * i, 1000.0 + 30 * i + 0.1) in (None, pytest.approx(-0.1))
    rx = 1150.0
    values = [est.update(rx + 30 * k + jump, rx + 30 * k + 0.1) for k in range(4)]
    assert values[-1] == pytest.approx(jump - 0.1)  # after a full window, the new offset


def test_a_corrected_clock_is_not_remembered_as_skewed() -> None:
    # an hourly sensor whose clock ran 900 s ahead for a while, then was synchronised again
    est = ClockOffset(samples=8)
    rx = [1000.0 + 3600 * i for i in range(20)]
    for t in rx[:10]:
        offset = est.update(t + 900.0, t + 0.2)
    assert offset == pytest.approx(899.8)
    after = [est.update(t, t + 0.2) for t in rx[10:]]
    # a fresh window: no estimate until it is full again, and never the stale 900 s
    assert all(v is None or abs(v) < 1.0 for v in after)
    assert after[-1] == pytest.approx(-0.2)


def test_jitter_below_the_step_keeps_the_window() -> None:
    rng = random.Random(5)
    est = ClockOffset(samples=4, step_s=60.0)
    values = [est.update(100.0 * i, 100.0 * i + rng.uniform(0.0, 30.0)) for i in range(40)]
    assert all(v is not None for v in values[3:])  # never restarted by ordinary jitter
