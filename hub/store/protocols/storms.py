"""Connectivity storms reported by several cluster workers (PostgreSQL only:
:mod:`hub.store.postgres.storms`)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class StormStore(Protocol):
    """Who reports each storm, changed one storm at a time (serialised per storm)."""

    def join_storm(self, key: str, source: str, devices: int, at: float) -> dict[str, int]:
        """``source`` reports the storm ``key`` with ``devices`` offline devices (again:
        the count is replaced); every source of the storm → its device count."""
        ...

    def leave_storm(self, key: str, source: str) -> dict[str, int]:
        """``source``'s part of the storm is over; the sources still reporting it."""
        ...
