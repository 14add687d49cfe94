"""Visits, follow-ups and ratings on SQLite: the shared SQL of
:mod:`hub.store.shared_visits` over this back-end's connection."""

from __future__ import annotations

from hub.store.shared_visits import SharedVisits
from hub.store.sqlite.connection import SqliteBase


class SqliteVisits(SharedVisits, SqliteBase):
    """Care profiles, visit plans and tasks, visit records, ratings."""
