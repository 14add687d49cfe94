"""The TimescaleDB path, on a machine without TimescaleDB.

What can be checked without the extension is checked: the migration parses with
PostgreSQL's own parser (pglast), calls only documented TimescaleDB functions with their
documented argument names, names only real columns, and the store picks the Timescale path
when detection says the extension is there. Finally the migration runs for real against
stand-ins of those functions (signatures from the TimescaleDB API reference) on a
throwaway database, which type-checks every call and runs the aggregate's query.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

import psycopg
import pytest

from hub.errors import StoreError
from hub.store import migrations
from hub.store.base import VITAL_FIELDS, IngestBatch, TelemetryRow
from hub.store.postgres import PostgresStore, choose_backend

AGG_VITALS = ("hr", "spo2", "rr", "temp", "sbp", "dbp")

# Documented TimescaleDB functions and their parameter names (see the references at the
# top of the migration file).
DOCUMENTED: dict[str, set[str]] = {
    "create_hypertable": {
        "relation", "dimension", "create_default_indexes", "if_not_exists", "migrate_data",
    },
    "by_range": {"column_name", "partition_interval", "partition_func"},
    "add_compression_policy": {
        "hypertable", "compress_after", "if_not_exists", "schedule_interval", "initial_start",
        "timezone", "compress_created_before",
    },
    "add_retention_policy": {
        "relation", "drop_after", "if_not_exists", "schedule_interval", "initial_start",
        "timezone", "drop_created_before",
    },
    "add_continuous_aggregate_policy": {
        "continuous_aggregate", "start_offset", "end_offset", "schedule_interval",
        "if_not_exists", "initial_start", "timezone",
    },
    "time_bucket": {"bucket_width", "ts", "offset", "origin", "timezone"},
}  # fmt: skip
SQL_BUILTINS = {"count", "avg", "min", "max", "coalesce", "nullif", "current_setting"}

# Stand-ins with the documented parameter names and order; each records its call.
STUBS = """
CREATE TABLE ts_calls (fn text, args jsonb);
CREATE FUNCTION by_range(column_name name, partition_interval interval DEFAULT NULL,
                         partition_func regproc DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql AS $$ SELECT jsonb_build_object('column', column_name,
                                                 'interval', partition_interval) $$;
CREATE FUNCTION create_hypertable(relation regclass, dimension jsonb,
        create_default_indexes boolean DEFAULT true, if_not_exists boolean DEFAULT false,
        migrate_data boolean DEFAULT false) RETURNS void
    LANGUAGE sql AS $$ INSERT INTO ts_calls VALUES ('create_hypertable', jsonb_build_object(
        'relation', relation::text, 'dimension', dimension, 'if_not_exists', if_not_exists,
        'migrate_data', migrate_data)) $$;
CREATE FUNCTION add_compression_policy(hypertable regclass, compress_after interval DEFAULT NULL,
        if_not_exists boolean DEFAULT false, schedule_interval interval DEFAULT NULL,
        initial_start timestamptz DEFAULT NULL, timezone text DEFAULT NULL,
        compress_created_before interval DEFAULT NULL) RETURNS integer
    LANGUAGE sql AS $$ INSERT INTO ts_calls VALUES ('add_compression_policy', jsonb_build_object(
        'relation', hypertable::text, 'compress_after', compress_after)) RETURNING 1 $$;
CREATE FUNCTION add_retention_policy(relation regclass, drop_after interval DEFAULT NULL,
        if_not_exists boolean DEFAULT false, schedule_interval interval DEFAULT NULL,
        initial_start timestamptz DEFAULT NULL, timezone text DEFAULT NULL,
        drop_created_before interval DEFAULT NULL) RETURNS integer
    LANGUAGE sql AS $$ INSERT INTO ts_calls VALUES ('add_retention_policy', jsonb_build_object(
        'relation', relation::text, 'drop_after', drop_after)) RETURNING 1 $$;
CREATE FUNCTION add_continuous_aggregate_policy(continuous_aggregate regclass,
        start_offset interval, end_offset interval, schedule_interval interval,
        if_not_exists boolean DEFAULT false, initial_start timestamptz DEFAULT NULL,
        timezone text DEFAULT NULL) RETURNS integer
    LANGUAGE sql AS $$ INSERT INTO ts_calls VALUES ('add_continuous_aggregate_policy',
        jsonb_build_object('relation', continuous_aggregate::text, 'start', start_offset,
                           'end', end_offset, 'every', schedule_interval)) RETURNING 1 $$;
CREATE FUNCTION time_bucket(bucket_width interval, ts timestamptz) RETURNS timestamptz
    IMMUTABLE LANGUAGE sql AS $$ SELECT date_bin(bucket_width, ts, '2000-01-03') $$;
"""


def _pglast() -> ModuleType:
    try:
        import pglast
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pglast is needed to check the TimescaleDB migration")
        pytest.skip("pglast not installed")
    return pglast


@pytest.fixture(scope="module")
def statements() -> list[str]:
    (mig,) = migrations.load("timescale")
    assert mig.version == "timescale/0001"
    return mig.statements()


def _telemetry_columns() -> set[str]:
    init = migrations.load("postgres")[0]
    table = next(s for s in init.statements() if s.startswith("CREATE TABLE telemetry"))
    return set(
        re.findall(r"^\s+([a-z_0-9]+)\s+(?:text|bigint|timestamptz|double|json)", table, re.M)
    )


def test_statements_are_non_empty_and_parse(statements: list[str]) -> None:
    pglast = _pglast()
    assert len(statements) == 7
    for statement in statements:
        assert statement.strip(), "empty statement"
        assert len(pglast.parse_sql(statement)) == 1, statement


def _calls(node: Any, found: list[tuple[str, set[str]]]) -> list[tuple[str, set[str]]]:
    """(function name, named arguments) of every call in a pglast JSON parse tree."""
    if isinstance(node, dict):
        call = node.get("FuncCall")
        if call is not None:
            name = call["funcname"][-1]["String"]["sval"]
            named = {a["NamedArgExpr"]["name"] for a in call.get("args", []) if "NamedArgExpr" in a}
            found.append((name, named))
        for value in node.values():
            _calls(value, found)
    elif isinstance(node, list):
        for value in node:
            _calls(value, found)
    return found


def test_only_documented_functions_are_called(statements: list[str]) -> None:
    pglast = _pglast()
    calls: list[tuple[str, set[str]]] = []
    for statement in statements:
        _calls(json.loads(pglast.parser.parse_sql_json(statement)), calls)
    timescale = [(name, named) for name, named in calls if name not in SQL_BUILTINS]
    assert {name for name, _ in timescale} == set(DOCUMENTED)
    for name, named in timescale:
        assert named <= DOCUMENTED[name], (
            f"{name}: undocumented argument {named - DOCUMENTED[name]}"
        )


def test_hypertable_compression_and_aggregate_settings(statements: list[str]) -> None:
    text = "\n".join(statements)
    assert text.startswith("CREATE EXTENSION IF NOT EXISTS timescaledb")
    assert re.search(r"create_hypertable\(\s*'telemetry',\s*by_range\('ts',", text)
    assert "timescaledb.compress," in text
    assert "timescaledb.compress_segmentby = 'device_id'" in text
    assert "timescaledb.compress_orderby = 'ts DESC, seq DESC'" in text
    assert "WITH (timescaledb.continuous)" in text
    # WITH DATA cannot run inside the migration's transaction
    assert re.search(r"GROUP BY device_id, bucket\s+WITH NO DATA$", text, re.M)
    for vital in AGG_VITALS:
        for fn in ("avg", "min", "max"):
            assert f"{fn}({vital}) AS {vital}_{fn}" in text


def test_named_columns_exist_and_keys_include_time() -> None:
    columns = _telemetry_columns()
    assert {"device_id", "ts", "seq", *VITAL_FIELDS} <= columns
    init = migrations.load("postgres")[0]
    telemetry = next(s for s in init.statements() if s.startswith("CREATE TABLE telemetry"))
    keys = re.findall(r"(?:PRIMARY KEY|UNIQUE)\s*\(([^)]*)\)", telemetry)
    assert keys and all("ts" in [c.strip() for c in key.split(",")] for key in keys)
    assert not re.search(r"CREATE UNIQUE INDEX \w+ ON telemetry", init.sql)


def test_backend_choice() -> None:
    assert choose_backend(available=True, applied=False, prefer=None) == "timescale"
    assert choose_backend(available=False, applied=False, prefer=None) == "postgres"
    assert choose_backend(available=True, applied=False, prefer=False) == "postgres"
    assert choose_backend(available=False, applied=True, prefer=None) == "timescale"
    with pytest.raises(StoreError):
        choose_backend(available=False, applied=False, prefer=True)


def test_timescale_path_is_chosen_when_detected(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = PostgresStore(pg_url)
    plain.open()
    try:  # the server here has no TimescaleDB
        assert plain.backend == "postgres"
        assert "timescale/0001" not in [m.version for m in plain.available_migrations()]
    finally:
        plain.close()
    monkeypatch.setattr(PostgresStore, "_detect_timescale", lambda self: (True, False))
    store = PostgresStore(pg_url)
    store.open()
    try:
        assert store.backend == "timescale"
        versions = [m.version for m in store.available_migrations()]
        assert versions[-1] == "timescale/0001" and versions[0] == "0001"
    finally:
        store.close()
    monkeypatch.setattr(PostgresStore, "_detect_timescale", lambda self: (False, False))
    required = PostgresStore(pg_url, timescale=True)
    with pytest.raises(StoreError):  # required but missing
        required.open()


def _runnable_on_plain_postgres(mig: migrations.Migration) -> migrations.Migration:
    """Drop what only the extension understands; keep every call and query."""
    kept = []
    for statement in mig.statements():
        if re.match(r"CREATE EXTENSION|ALTER TABLE telemetry SET \(\s*timescaledb", statement):
            continue
        kept.append(statement.replace("WITH (timescaledb.continuous) ", ""))
    return migrations.Migration(mig.version, mig.name, ";\n".join(kept))


def test_migration_runs_against_documented_signatures(
    new_pg_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_pg_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(STUBS)
    real_load = migrations.load
    monkeypatch.setattr(
        migrations, "load",
        lambda name: [_runnable_on_plain_postgres(m) for m in real_load(name)]
        if name == "timescale" else real_load(name),
    )  # fmt: skip
    monkeypatch.setattr(PostgresStore, "_detect_timescale", lambda self: (True, False))
    store = PostgresStore(url, telemetry_retention="90 days")
    store.open()
    try:
        main = [m.version for m in migrations.load("postgres")]
        assert store.migrate() == [*main, "timescale/0001"]
        assert store.migrate() == []
        t0 = 1_767_225_600.0
        store.write_batch(
            IngestBatch(
                telemetry=[
                    TelemetryRow("w-1", 1, t0 + 1, t0 + 1, {"hr": 60.0, "spo2": 97.0}),
                    TelemetryRow("w-1", 2, t0 + 31, t0 + 31, {"hr": 80.0}),
                    TelemetryRow("w-1", 3, t0 + 61, t0 + 61, {"hr": 100.0}),
                ]
            )
        )
    finally:
        store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        calls: dict[str, Any] = dict(conn.execute("SELECT fn, args FROM ts_calls").fetchall())
        conn.execute("REFRESH MATERIALIZED VIEW vitals_1m")
        minutes = conn.execute(
            "SELECT n, hr_avg, hr_min, hr_max, spo2_avg, rr_avg FROM vitals_1m"
            " WHERE device_id = 'w-1' ORDER BY bucket"
        ).fetchall()
    assert calls["create_hypertable"] == {
        "relation": "telemetry", "if_not_exists": True, "migrate_data": True,
        "dimension": {"column": "ts", "interval": "06:00:00"},
    }  # fmt: skip
    assert calls["add_compression_policy"] == {"relation": "telemetry", "compress_after": "7 days"}
    assert calls["add_retention_policy"] == {"relation": "telemetry", "drop_after": "90 days"}
    assert calls["add_continuous_aggregate_policy"]["relation"] == "vitals_1m"
    assert minutes == [(2, 70.0, 60.0, 80.0, 97.0, None), (1, 100.0, 100.0, 100.0, None, None)]


def test_retention_defaults_to_400_days(
    new_pg_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_pg_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(STUBS)
        conn.execute("CREATE TABLE telemetry (ts timestamptz)")
        conn.execute("CREATE TABLE vitals_1m (x int)")
        (mig,) = migrations.load("timescale")
        retention = next(s for s in mig.statements() if "add_retention_policy" in s)
        conn.execute(retention)
        (args,) = conn.execute("SELECT args FROM ts_calls").fetchone() or (None,)
    assert args == {"relation": "telemetry", "drop_after": "400 days"}
