"""Test-suite wiring: shared fixtures and the guard against unexpected logged errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.brokers",
    "tests.fixtures.dynsec",
    "tests.fixtures.pg_cluster",
    "tests.fixtures.nats",
]


@pytest.fixture(autouse=True)
def _fail_on_unexpected_error_logs(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> Iterator[None]:
    """Fail a test that logged an ERROR it did not expect.

    A test that expects errors marks itself with ``@pytest.mark.allow_error_logs``.
    """
    caplog.set_level(logging.INFO)
    yield
    if request.node.get_closest_marker("allow_error_logs"):
        return
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    if errors:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in errors)
        pytest.fail(f"unexpected error logged:\n{lines}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test`` runs two workers), the fault drills run one after
    another on one worker: each starts its own broker, database cluster and hub processes
    and runs against a wall clock, so two at once would starve each other of the machine's
    cores while the other worker goes through the rest of the suite."""
    for item in items:
        if item.get_closest_marker("faults"):
            item.add_marker(pytest.mark.xdist_group("drills"))
