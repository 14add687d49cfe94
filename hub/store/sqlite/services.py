"""Services, care workers and orders on SQLite: the shared SQL of
:mod:`hub.store.shared_services` over the SQLite connection."""

from __future__ import annotations

from hub.store.shared_services import SharedServices
from hub.store.sqlite.connection import SqliteBase


class SqliteServices(SharedServices, SqliteBase):
    """Service catalogue, care workers, orders and their audit trail."""
