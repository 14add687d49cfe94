"""Visits, follow-ups and ratings on PostgreSQL: the shared SQL of
:mod:`hub.store.shared_visits` over this back-end's pool."""

from __future__ import annotations

from hub.store.postgres.connection import PostgresBase
from hub.store.shared_visits import SharedVisits


class PostgresVisits(SharedVisits, PostgresBase):
    """Care profiles, visit plans and tasks, visit records, ratings."""
