"""Smoke test of ``bench/ws.py`` at tiny sizes, so the benchmark does not rot between runs:
a real ``carehub serve`` on a throwaway Mosquitto and PostgreSQL database, real client
processes. It checks that every frame arrives and the figures are coherent, not how fast."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench import ws
from tests.fixtures.brokers import MosquittoProcess
from tests.fixtures.databases import PgDatabases

pytestmark = [pytest.mark.slow, pytest.mark.broker, pytest.mark.postgres]

CLIENTS, ALERTS, ROUNDS = 5, 2, 3


@pytest.fixture(scope="module")
def server(mosquitto: MosquittoProcess, _pg_databases: PgDatabases) -> Iterator[ws.Server]:
    """One hub for the module (starting one takes seconds)."""
    with ws.hub_server(mosquitto.url, _pg_databases.create(), background=20) as running:
        yield running


def test_sos_reaches_the_console_under_background_telemetry(
    server: ws.Server, mosquitto: MosquittoProcess
) -> None:
    sos = ws.sos_to_ws(server, mosquitto.url, rounds=ROUNDS, rate=100, devices=20, warmup=1,
                       gap_s=0.1)  # fmt: skip
    assert sos["n"] == ROUNDS
    assert 0 < sos["p50_ms"] <= sos["p99_ms"] <= sos["max_ms"]
    assert sos["accepted_per_s"] > 0  # the background telemetry really flowed
    assert sos["refused"] == 0  # and was valid
    assert sos["batch_rows"] > 0


def test_every_client_gets_every_alert_and_memory_is_read(
    server: ws.Server, mosquitto: MosquittoProcess
) -> None:
    fan = ws.fanout(server, mosquitto.url, n=CLIENTS, alerts=ALERTS, processes=2, gap_s=0.1)
    assert fan["clients"] == CLIENTS
    assert fan["samples"] == CLIENTS * ALERTS
    assert 0 < fan["p50_ms"] <= fan["p99_ms"]
    assert fan["spread_p99_ms"] >= 0
    assert fan["rss_before_mb"] > 0 and fan["rss_with_mb"] > 0


def test_the_bare_broadcaster_reference_reaches_every_client() -> None:
    bare = ws.bare_fanout(n=CLIENTS, alerts=ALERTS, gap_s=0.1)
    assert bare["samples"] == CLIENTS * ALERTS
    assert 0 < bare["p50_ms"] <= bare["p99_ms"]


def test_clients_refused_by_the_server_fail_the_run_clearly(server: ws.Server) -> None:
    with pytest.raises(SystemExit, match=r"failed.*4401"):
        ws.ClientPool(server.ws_url, "chk_not-a-token", 1)
