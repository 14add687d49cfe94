"""Reading back what devices sent: telemetry, events, dead letters, status and command
replies, the replay window of a restarted hub, and the dashboard's vitals series."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from hub.store.protocols.ingest import (
    CommandReplyRow,
    DeadLetter,
    DeadLetterPrune,
    EventRow,
    StatusChange,
    TelemetryRow,
)

VITALS_SERIES_FIELDS: tuple[str, ...] = ("hr", "spo2", "rr", "temp", "sbp", "dbp")
"""Fields of :meth:`Store.vitals_series` (those of TimescaleDB's ``vitals_1m`` aggregate)."""


@dataclass(frozen=True, slots=True)
class VitalsBucket:
    """One time bucket of one device's vital signs: field → (mean, min, max)."""

    device_id: str
    start: float
    n: int
    values: dict[str, tuple[float, float, float]]


@runtime_checkable
class TelemetryStore(Protocol):
    """Queries over what devices sent (all read-only)."""

    def telemetry(
        self,
        device_id: str,
        since: float | None = None,
        until: float | None = None,
        limit: int = 10_000,
    ) -> list[TelemetryRow]:
        """Ascending by device time."""
        ...

    def events(
        self, device_id: str | None = None, since: float | None = None, limit: int = 1_000
    ) -> list[EventRow]:
        """Descending by receive time."""
        ...

    def dead_letters(
        self, *, device_id: str | None = None, code: str | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        """Newest first."""
        ...

    def count_dead_letters(self) -> dict[str, int]:
        """Dead letters per reason code."""
        ...

    def prune_dead_letters(self, *, before: float, keep: int) -> DeadLetterPrune:
        """Delete dead letters received before ``before`` (epoch seconds), then all but the
        newest ``keep``; return how many went each way."""
        ...

    def status_history(self, device_id: str, limit: int = 100) -> list[StatusChange]:
        """Newest first."""
        ...

    def command_replies(
        self, device_id: str, command_id: str | None = None
    ) -> list[CommandReplyRow]: ...

    def received_between(
        self, after: float, until: float, limit: int = 100_000
    ) -> tuple[list[TelemetryRow], list[EventRow]]:
        """Telemetry and events received in ``(after, until]``, each by receive time:
        what a restarted hub runs through the detectors again."""
        ...

    def status_between(self, after: float, until: float, limit: int = 100_000
                       ) -> list[StatusChange]:  # fmt: skip
        """Status changes (births, Last Wills) in ``(after, until]`` by their time (the
        device's for a birth, the hub's for a Will), oldest first: replayed like
        :meth:`received_between`."""
        ...

    # dashboard queries
    def latest_telemetry(self, device_ids: Sequence[str]) -> dict[str, TelemetryRow]:
        """The newest telemetry row (by device time) of each device that has one."""
        ...

    def latest_received(self, since: float) -> list[TelemetryRow]:
        """The newest telemetry row (by receive time) of each device that had one received
        after ``since`` (epoch seconds): what a dashboard-only node publishes as vitals."""
        ...

    def vitals_series(
        self, device_ids: Sequence[str], since: float, until: float, bucket_s: int
    ) -> list[VitalsBucket]:
        """Mean, min and max of :data:`VITALS_SERIES_FIELDS` per device and bucket of
        ``bucket_s`` seconds (aligned to the epoch), by device then time. TimescaleDB reads
        its per-minute continuous aggregate when ``bucket_s`` is a multiple of 60."""
        ...
