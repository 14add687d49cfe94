"""Smoke test of ``bench/kpi.py`` at a tiny size, so it does not rot between runs: the
history it writes (alerts, device status, orders, visits, ratings) is what the KPI table
then counts (no wall-clock assertion)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench import kpi
from hub.store import open_store


@pytest.mark.postgres
def test_the_kpi_bench_counts_every_alert_it_wrote(new_pg_database: Callable[[], str]) -> None:
    url = new_pg_database()
    open_store(url).close()  # migrated
    counts = kpi.generate(url, districts=2, stations=4, residents=5)
    assert counts["residents"] == 20 and counts["devices"] == 40
    assert counts["alerts"] == 20 * 18 and counts["status"] >= 40
    m = kpi.measure(url, runs=2)
    assert len(m["city"]) == len(m["district"]) == len(m["city_base"]) == 2
    assert m["alarms"] == [float(counts["alerts"])]
    assert 0.9 < m["uptime"][0] < 1.0  # devices drop off for about half an hour at a time
    # the services' history is counted too (a few orders fall due after the year)
    assert 0 < m["orders_due"][0] <= counts["orders"]
    assert 0 < m["visits_due"][0] <= counts["visit_tasks"]
    assert 0 < m["arrivals"][0] < counts["orders"] and 0 < m["ratings"][0] <= counts["ratings"]
