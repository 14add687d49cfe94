"""Shared pieces of the benchmarks: throwaway services, results file, printed tables.

Benchmarks measure a candidate and its baseline side by side in one run and report the
ratio, because this machine is shared and noisy: absolute rates vary from run to run,
ratios much less.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import statistics
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from rich.console import Console
from rich.table import Table

from hub.broker.embedded import free_port

RESULTS = Path(__file__).with_name("results.json")
console = Console()


def record(results: dict[str, Any]) -> None:
    """Merge ``results`` into bench/results.json (other benchmarks' keys are kept)."""
    data: dict[str, Any] = {}
    if RESULTS.exists():
        data = json.loads(RESULTS.read_text(encoding="utf-8"))
    data.update(results)
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def show(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table("measure", "value", title=title)
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextlib.contextmanager
def mosquitto() -> Iterator[str]:
    """A throwaway Mosquitto on a free port; yields its URL."""
    from tests.fixtures.brokers import MosquittoProcess, _find_mosquitto

    binary = _find_mosquitto()
    if binary is None:
        raise SystemExit("mosquitto is not installed: run `make system-deps`")
    with tempfile.TemporaryDirectory() as tmp:
        proc = MosquittoProcess(binary, Path(tmp), free_port())
        proc.start()
        try:
            yield proc.url
        finally:
            proc.stop()


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A throwaway database on the PostgreSQL named by CAREHUB_TEST_PG_URL."""
    admin = os.environ.get("CAREHUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"carehub_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
