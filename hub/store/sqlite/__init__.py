"""The embedded store: SQLite in WAL mode, the default that needs nothing installed.

:class:`SqliteStore` is one mixin an area (registry, ingest, telemetry, findings, alerts,
users, visits: each module holds that area's SQL next to the code that runs it) over one shared
connection (:mod:`hub.store.sqlite.connection`). Rows become records through
:mod:`hub.store.rows`, as in :mod:`hub.store.postgres`.

>>> store = SqliteStore(":memory:")
>>> store.migrate()[:1]
['0001']
>>> store.migrate()
[]
>>> store.close()
"""

from __future__ import annotations

from hub.store.sqlite.alerts import SqliteAlerts
from hub.store.sqlite.connection import BUSY_TIMEOUT_MS
from hub.store.sqlite.deadletters import SqliteDeadLetters
from hub.store.sqlite.findings import SqliteFindings
from hub.store.sqlite.ingest import SqliteIngest
from hub.store.sqlite.kpi import SqliteKpi
from hub.store.sqlite.registry import SqliteRegistry
from hub.store.sqlite.service_kpi import SqliteServiceKpi
from hub.store.sqlite.services import SqliteServices
from hub.store.sqlite.telemetry import SqliteTelemetry
from hub.store.sqlite.users import SqliteUsers
from hub.store.sqlite.visits import SqliteVisits

__all__ = ["BUSY_TIMEOUT_MS", "SqliteStore"]


class SqliteStore(
    SqliteRegistry,
    SqliteIngest,
    SqliteTelemetry,
    SqliteFindings,
    SqliteAlerts,
    SqliteUsers,
    SqliteDeadLetters,
    SqliteServices,
    SqliteVisits,
    SqliteKpi,
    SqliteServiceKpi,
):
    """:class:`hub.store.base.Store` on one SQLite file (or ``":memory:"``)."""
