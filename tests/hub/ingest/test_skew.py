"""The clock-offset estimate leaves backlogs out: messages held by the broker while the hub
was away arrive together, and their delay is the hub's absence, not the device's clock."""

from __future__ import annotations

from hub.ingest.skew import ClockOffset

T0 = 1_767_225_600.0


def test_a_held_accelerometer_burst_is_not_clock_skew() -> None:
    est = ClockOffset()
    for i in range(10):  # live: one reading a minute, 0.2 s on the way
        first = est.update(T0 + 60 * i, T0 + 60 * i + 0.2)
    assert first is not None and abs(first + 0.2) < 1e-3
    # the hub was away for 139 s: a fall's burst of one-second chunks arrives at once
    start = T0 + 600.0
    estimates = [est.update(start + i, start + 139.0 + i * 0.001) for i in range(12)]
    assert all(e is None or abs(e) < 1.0 for e in estimates), estimates
    # live again: the 139 s delay was a step, so the estimate starts afresh
    after = [est.update(start + 60 * i, start + 60 * i + 0.2) for i in range(3, 14)]
    assert all(e is None or abs(e + 0.2) < 1e-3 for e in after), after
    assert after[-1] is not None


def test_a_live_burst_still_counts() -> None:
    est = ClockOffset(samples=4)
    # chunks sent as they fill: arrival keeps pace with device time; the clock is 300 s ahead
    out = [est.update(T0 + 300 + i, T0 + i + 0.05) for i in range(6)]
    assert out[-1] is not None and round(out[-1]) == 300
