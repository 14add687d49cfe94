"""Services, care workers and orders on PostgreSQL: the shared SQL of
:mod:`hub.store.shared_services` over the pool (``timestamptz`` times, ``jsonb`` lists)."""

from __future__ import annotations

from hub.store.postgres.connection import PostgresBase
from hub.store.shared_services import SharedServices


class PostgresServices(SharedServices, PostgresBase):
    """Service catalogue, care workers, orders and their audit trail."""
