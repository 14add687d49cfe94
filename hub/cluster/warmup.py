"""Storing a claimed partition at once, detecting on it once its state is rebuilt.

A worker claiming a partition must rebuild its devices' detector state from the stream
before its detectors see new messages (:meth:`hub.cluster.worker.Worker._warm_up`). Storing
those messages does not need that state, and replaying a partition's horizon took seconds
when a surviving worker took over a dead one's share (``bench/scale.py``). So the partition's
pipeline starts committing (and the store has the readings, the dashboards the events) as
soon as the partition is claimed, while :class:`WarmUpGate` — the pipeline's observer in
front of the detectors — holds its committed batches until the replay is done, then hands
them over in order and steps aside.

The held batches count in the worker's detection horizon (:meth:`WarmUpGate.oldest`): their
messages are not acknowledged to JetStream before the detectors saw them, so a worker that
dies meanwhile leaves them to the next owner.

>>> seen = []
>>> gate = WarmUpGate(seen.append)
>>> gate([1, 2]); gate([3])
>>> seen, gate.held
([], 2)
>>> gate.open(); gate([4])
>>> seen
[[1, 2], [3], [4]]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


class WarmUpGate:
    """See the module docstring. Called on the event loop only."""

    def __init__(self, observe: Callable[[Any], None]) -> None:
        self.observe = observe
        self.is_open = False
        self._held: list[Sequence[Any]] = []

    def __call__(self, batch: Sequence[Any]) -> None:
        if self.is_open:
            self.observe(batch)
        else:
            self._held.append(batch)

    @property
    def held(self) -> int:
        """Batches waiting for the detectors."""
        return len(self._held)

    def oldest(self) -> float:
        """Receive time of the oldest message held (``inf`` when none)."""
        return min(
            (getattr(m, "received_at", math.inf) for b in self._held for m in b[:1]),
            default=math.inf,
        )

    def open(self) -> None:
        """The detectors are ready: what was held goes to them in order, then the rest."""
        held, self._held = self._held, []
        self.is_open = True
        for batch in held:
            self.observe(batch)
