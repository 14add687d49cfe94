"""The production store: PostgreSQL through psycopg 3 and a connection pool, TimescaleDB
when the extension is available.

:class:`PostgresStore` is one mixin an area (registry, ingest, telemetry, findings, alerts,
users, visits: each module holds that area's SQL next to the code that runs it) over one shared
pool (:mod:`hub.store.postgres.connection`). Telemetry is written with binary COPY
(:mod:`hub.store.postgres.copy`); one :class:`~hub.store.base.IngestBatch` is one
transaction. Times are ``timestamptz`` in the database and float epoch seconds at this
boundary (microsecond resolution, the precision of ``timestamptz``:
:mod:`hub.store.postgres.codec`). Rows become records through :mod:`hub.store.rows`, as in
:mod:`hub.store.sqlite`.
"""

from __future__ import annotations

from hub.store.postgres.alerts import PostgresAlerts
from hub.store.postgres.codec import PG_EPOCH, pg_micros, to_dt
from hub.store.postgres.connection import (
    DEFAULT_RETENTION,
    MIGRATION_LOCK,
    choose_backend,
    configure_json,
)
from hub.store.postgres.copy import TELEMETRY_TYPES, in_key_order, telemetry_key
from hub.store.postgres.deadletters import PostgresDeadLetters
from hub.store.postgres.fencing import PostgresFencing
from hub.store.postgres.findings import PostgresFindings
from hub.store.postgres.ingest import PostgresIngest
from hub.store.postgres.kpi import PostgresKpi
from hub.store.postgres.registry import PostgresRegistry
from hub.store.postgres.service_kpi import PostgresServiceKpi
from hub.store.postgres.services import PostgresServices
from hub.store.postgres.snapshots import PostgresSnapshots
from hub.store.postgres.storms import PostgresStorms
from hub.store.postgres.telemetry import PostgresTelemetry
from hub.store.postgres.users import PostgresUsers
from hub.store.postgres.visits import PostgresVisits
from hub.store.rows import TELEMETRY_COLS

__all__ = [
    "DEFAULT_RETENTION",
    "MIGRATION_LOCK",
    "PG_EPOCH",
    "TELEMETRY_COLS",
    "TELEMETRY_TYPES",
    "PostgresStore",
    "choose_backend",
    "configure_json",
    "in_key_order",
    "pg_micros",
    "telemetry_key",
    "to_dt",
]


class PostgresStore(
    PostgresFencing, PostgresRegistry, PostgresIngest, PostgresTelemetry, PostgresFindings,
    PostgresAlerts, PostgresUsers, PostgresDeadLetters, PostgresServices, PostgresVisits,
    PostgresKpi, PostgresServiceKpi, PostgresSnapshots, PostgresStorms,
):  # fmt: skip
    """:class:`hub.store.base.Store` on PostgreSQL (optionally with TimescaleDB)."""
