"""One page of a resident's readings for the FHIR export, keyset-paged by device time.

A page holds whole instants: every reading of the resident's devices at one device time
lands on the same page, so the next page starts strictly after the last time of this one
(``after``) and nothing is skipped or repeated however the readings interleave. A page
grows by instants while it stays within ``count`` Observations (a single instant bigger
than that still makes a page of its own, so the export always advances).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Final

from hub.fhir.resources import observation_count
from hub.store.base import TelemetryRow, TelemetryStore

SLACK: Final = 64
"""Readings fetched beyond ``count`` per device: room for rows at the cursor's instant,
which the store returns again (its ``since`` is inclusive) and which are dropped here."""


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[TelemetryRow]
    """By device time, then device, then seq."""
    observations: int
    next_after: float | None
    """The device time the next page starts after; None on the last page."""


def read_page(
    store: TelemetryStore, device_ids: Sequence[str], start: float, end: float, *,
    after: float | None = None, count: int = 1000,
) -> Page:  # fmt: skip
    """The readings in ``[start, end)`` (after ``after`` when given) that make at most
    ``count`` Observations, and where the next page starts."""
    since = start if after is None else max(start, after)
    fetch = count + SLACK
    rows: list[TelemetryRow] = []
    seen: list[float] = []  # device times fetched, with or without vital signs
    horizon = end  # readings at or after it may be missing from a device cut short
    for device_id in device_ids:
        got = store.telemetry(device_id, since=since, until=end, limit=fetch)
        if len(got) == fetch:
            horizon = min(horizon, got[-1].ts)
        got = [r for r in got if after is None or r.ts > after]
        seen += [r.ts for r in got]
        rows += [r for r in got if observation_count(r)]
    complete = horizon == end
    rows = sorted((r for r in rows if complete or r.ts < horizon),
                  key=lambda r: (r.ts, r.device_id, r.seq))  # fmt: skip
    page: list[TelemetryRow] = []
    n = 0
    instants = [list(g) for _, g in groupby(rows, key=lambda r: r.ts)]
    for i, instant in enumerate(instants):
        size = sum(observation_count(r) for r in instant)
        if page and n + size > count:
            return Page(page, n, page[-1].ts)
        page += instant
        n += size
        if i == len(instants) - 1 and not complete:
            return Page(page, n, page[-1].ts)
    if not complete:  # nothing with vital signs before the horizon: move up to it
        below = [t for t in seen if t < horizon]
        # more than count + SLACK readings of one device at one instant: step past it
        return Page([], 0, max(below) if below else horizon)
    return Page(page, n, None)
