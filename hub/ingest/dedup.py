"""Duplicate filter over ``(device, seq)``: pure, per device.

Devices number their messages with ``seq``, strictly increasing. QoS 1 redelivery and
reconnects make the same message arrive twice; a buggy device may reuse a ``seq`` for new
content. The window remembers the last ``window`` sequence numbers of each device together
with a digest of the content, so it can tell a harmless duplicate (dropped silently) from
a reused ``seq`` (refused). After a restart the window is rebuilt from the store without
digests: a ``seq`` seen before is then treated as a duplicate.

>>> w = SeqWindow(window=4)
>>> [w.check(s, d) for s, d in [(1, 10), (2, 20), (2, 20), (2, 99), (0, 5), (9, 1), (3, 3)]]
['new', 'new', 'duplicate', 'reused', 'new', 'new', 'out_of_window']
"""

from __future__ import annotations

from typing import Literal

Verdict = Literal["new", "duplicate", "reused", "out_of_window"]


class SeqWindow:
    """The recent ``seq`` values of one device, with a content digest each."""

    __slots__ = ("_seen", "high", "window")

    def __init__(self, window: int = 1024) -> None:
        self.window = window
        self.high: int | None = None
        self._seen: dict[int, int | None] = {}

    def check(self, seq: int, digest: int | None) -> Verdict:
        """Classify ``seq`` and, when new, remember it."""
        if seq in self._seen:
            known = self._seen[seq]
            if known is None or digest is None or known == digest:
                return "duplicate"
            return "reused"
        if self.high is not None and seq <= self.high - self.window:
            return "out_of_window"
        self._seen[seq] = digest
        if self.high is None or seq > self.high:
            self.high = seq
        if len(self._seen) > 2 * self.window:
            self._prune()
        return "new"

    def seed(self, seqs: list[int]) -> None:
        """Remember ``seqs`` (from the store, after a restart) without digests."""
        for seq in seqs:
            self._seen.setdefault(seq, None)
            if self.high is None or seq > self.high:
                self.high = seq
        self._prune()

    def reset(self) -> None:
        """Forget everything: the device rebooted and restarted its ``seq``."""
        self._seen.clear()
        self.high = None

    def _prune(self) -> None:
        if self.high is None:
            return
        floor = self.high - self.window
        self._seen = {s: d for s, d in self._seen.items() if s > floor}
