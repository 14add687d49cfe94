"""Duplicate filter over ``(device, seq)``: pure, per device.

Devices number their messages with ``seq``, strictly increasing. QoS 1 redelivery and
reconnects make the same message arrive twice; a buggy device may reuse a ``seq`` for new
content. The window remembers the last ``window`` sequence numbers of each device together
with a digest of the content, so it can tell a harmless duplicate (dropped silently) from
a reused ``seq`` (refused). After a restart the window is rebuilt from the store without
digests: a ``seq`` seen before is then treated as a duplicate.

Memory is fixed per device, whatever it sent: which of the last ``window`` numbers were
seen is one bit each (a Python int used as a bit set, bit ``i`` for ``high - i``), and
their digests sit in a ring of 32-bit values indexed by ``seq % window`` (every ``seq`` of
the window has a slot of its own). That is about 4.3 KB per device for the default window
of 1,024, where a dict of ``seq`` to digest held up to 2,048 entries, some 200 KB, once a
wearable had sent for a day (``bench/rss.py``, ``hub_rss_mb_10k_devices``). Digests are
kept to 32 bits: two different payloads sent under one ``seq`` are then told apart unless
their hashes collide in those bits (about one in four billion), in which case the second
is dropped as a duplicate instead of being refused as reused.

>>> w = SeqWindow(window=4)
>>> [w.check(s, d) for s, d in [(1, 10), (2, 20), (2, 20), (2, 99), (0, 5), (9, 1), (3, 3)]]
['new', 'new', 'duplicate', 'reused', 'new', 'new', 'out_of_window']
"""

from __future__ import annotations

from array import array
from typing import Literal

Verdict = Literal["new", "duplicate", "reused", "out_of_window"]

_UNKNOWN = 0  # digest slot of a seq restored from the store (no content known)
_MASK32 = 0xFFFF_FFFF


def _fold(digest: int | None) -> int:
    """A digest as a non-zero 32-bit value (zero marks an unknown digest)."""
    if digest is None:
        return _UNKNOWN
    return (digest & _MASK32) or 1


class SeqWindow:
    """The recent ``seq`` values of one device, with a content digest each."""

    __slots__ = ("_bits", "_digests", "high", "window")

    def __init__(self, window: int = 1024) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self.high: int | None = None
        self._bits = 0  # bit i: seq ``high - i`` was seen (i < window)
        self._digests: array[int] | None = None  # allocated with the first seq

    def check(self, seq: int, digest: int | None) -> Verdict:
        """Classify ``seq`` and, when new, remember it."""
        high = self.high
        if high is not None:
            if seq <= high - self.window:
                return "out_of_window"
            if seq <= high and self._bits >> (high - seq) & 1:
                known = self._ring()[seq % self.window]
                if known == _UNKNOWN or digest is None or known == _fold(digest):
                    return "duplicate"
                return "reused"
        self._remember(seq, _fold(digest))
        return "new"

    def seed(self, seqs: list[int]) -> None:
        """Remember ``seqs`` (from the store, after a restart) without digests."""
        for seq in seqs:
            high = self.high
            unseen = high is None or seq > high or not self._bits >> (high - seq) & 1
            if unseen and (high is None or seq > high - self.window):
                self._remember(seq, _UNKNOWN)  # a digest already known is kept

    def reset(self) -> None:
        """Forget everything: the device rebooted and restarted its ``seq``."""
        self._bits = 0
        self.high = None

    @property
    def size(self) -> int:
        """How many ``seq`` values are remembered (at most ``window``)."""
        return self._bits.bit_count()

    def _ring(self) -> array[int]:
        if self._digests is None:
            self._digests = array("I", bytes(4 * self.window))
        return self._digests

    def _remember(self, seq: int, folded: int) -> None:
        high, window = self.high, self.window
        if high is None:
            self._bits, self.high = 1, seq
        elif seq > high:
            shift = seq - high
            self._bits = ((self._bits << shift) | 1) & ((1 << window) - 1) if shift < window else 1
            self.high = seq
        else:
            self._bits |= 1 << (high - seq)
        self._ring()[seq % window] = folded
