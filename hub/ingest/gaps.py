"""Telemetry loss: ``seq`` numbers a device used that never reached the hub (pure, per device).

Devices number every telemetry and event message with ``seq``, one more each time (the
contract, section 9). A jump from 41 to 44 leaves 42 and 43 *missing*. A missing number is
not yet *lost*: QoS 1 resends after a reconnect and messages of two topics arrive out of
order, and a late one fills its hole. Lost numbers are counted only once they are certain,
so the count only ever goes up (as a Prometheus counter must) and a late arrival is never
counted as lost:

- it is more than ``window`` behind the newest ``seq``: the hub would now refuse it as
  ``seq_out_of_window``, so it can never arrive;
- the device announced a new ``boot``: the old numbering is over;
- it stayed missing for ``settle_s`` (300 s): two of paho's longest default reconnect
  delays (120 s), so a QoS 1 resend after a reconnect has had its chance.

A message arriving after its number was counted (later than ``settle_s``) is still stored;
it is reported as ``late`` so that lost = gaps − late stays exact. A jump of more than
``window`` is counted as ``window`` numbers: a counter that leaps far is a device fault,
not thousands of lost messages. Holes open when the hub restarts are not remembered (the
count restarts from the stored last ``seq``).

>>> g = SeqGaps(window=8, settle_s=60.0)
>>> [g.observe(s, at=t) for s, t in [(1, 0.0), (4, 1.0), (2, 2.0)]]  # 2 and 3 missing; 2 fills
[(0, 0), (0, 0), (0, 0)]
>>> g.missing, g.settle(at=70.0), g.missing
(1, 1, 0)
>>> g.observe(3, at=80.0)  # too late: already counted as lost
(0, 1)
"""

from __future__ import annotations

from hub.contract.limits import SEQ_WINDOW

GAP_SETTLE_S = 300.0


class SeqGaps:
    """Missing and lost ``seq`` numbers of one device; see the module docstring."""

    __slots__ = ("_counted", "_holes", "high", "settle_s", "window")

    def __init__(self, *, window: int = SEQ_WINDOW, settle_s: float = GAP_SETTLE_S) -> None:
        self.window = window
        self.settle_s = settle_s
        self.high: int | None = None
        self._holes: dict[int, float] = {}  # seq -> when it was first missed (ascending)
        self._counted: set[int] = set()  # counted as lost, still within the window

    @property
    def missing(self) -> int:
        """Numbers missing now, not (yet) counted as lost."""
        return len(self._holes)

    def seed(self, last_seq: int | None) -> None:
        """Continue from the last ``seq`` the store knows (after a hub restart)."""
        if last_seq is not None and (self.high is None or last_seq > self.high):
            self.high = last_seq

    def observe(self, seq: int, at: float) -> tuple[int, int]:
        """A new (not duplicate) ``seq`` arrived at ``at``: ``(lost, late)`` counted now."""
        if self.high is None:
            self.high = seq
            return 0, 0
        if seq <= self.high:
            if self._holes.pop(seq, None) is not None:
                return 0, 0  # filled a hole in time
            if seq in self._counted:
                self._counted.discard(seq)
                return 0, 1
            return 0, 0  # older than anything we waited for
        # a leap beyond the window leaves holes for one window's worth only (see above)
        for s in range(max(self.high + 1, seq - self.window), seq):
            self._holes[s] = at
        self.high = seq
        return self._expire(at), 0

    def settle(self, at: float) -> int:
        """Count the holes that became certain by ``at``; return how many."""
        return self._expire(at)

    def restart(self) -> int:
        """The device started a new boot: every open hole is lost; numbering restarts."""
        lost = len(self._holes)
        self._holes.clear()
        self._counted.clear()
        self.high = None
        return lost

    def _expire(self, at: float) -> int:
        if self.high is None:
            return 0
        floor = self.high - self.window
        lost = 0
        for s, since in list(self._holes.items()):
            if s > floor and at - since < self.settle_s:
                break  # ascending by seq and by time: the rest are younger
            del self._holes[s]
            self._counted.add(s)
            lost += 1
        if len(self._counted) > self.window:
            self._counted = {s for s in self._counted if s > floor}
        return lost


__all__ = ["GAP_SETTLE_S", "SeqGaps"]
