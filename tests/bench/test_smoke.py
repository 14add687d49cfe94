"""Smoke tests of ``bench/detect.py``, ``bench/provision.py``, ``bench/mqtt_clients.py`` and
``bench/visits.py`` at tiny sizes, so they do not rot between runs. They check that both
sides of each comparison did the same work, not how fast (the machine is shared: no
wall-clock assertion)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from bench import detect, mqtt_clients, provision, visits
from hub.store import open_store
from tests.fixtures.brokers import MosquittoProcess


def test_the_vectorised_detector_and_its_per_device_peer_see_the_same_stream() -> None:
    m = detect.measure(devices=40, seconds=3, rounds=2)
    assert m["rounds"] == 2
    assert m["vec_rate"] > 0 and m["loop_rate"] > 0


def test_the_per_device_peer_raises_what_the_vectorised_path_raises() -> None:
    """A knock hard enough to score: both sides must agree on the alarms (measure()
    stops the run when they do not)."""
    ids = [f"d-{i}" for i in range(30)]
    data = detect.simulate(30, 4, seed=5)
    batches = [data[:, s * 50 : (s + 1) * 50].copy() for s in range(4)]
    vec = detect.Side(ids, batches, vectorised=True)
    loop = detect.Side(ids, batches, vectorised=False)
    vec.round(), loop.round()
    assert vec.alarms == loop.alarms
    assert vec.t == loop.t == detect.T0 + 4


def test_the_provisioning_csv_has_homes_of_five() -> None:
    lines = provision.devices_csv(10).splitlines()
    assert lines[0] == "id,kind,gateway_id,vendor,model"
    assert len(lines) == 11
    assert lines[1].startswith("gw-000000,gateway,,")
    assert lines[2].startswith("s-000000-1,motion,gw-000000,")
    assert lines[5].startswith("w-000000,wearable,,")


@pytest.mark.postgres
def test_provisioning_imports_every_device_on_each_side(
    new_pg_database: Callable[[], str],
) -> None:
    m = provision.measure(new_pg_database(), n=50, runs=2)  # its own: it truncates devices
    assert m["full"] > 0 and m["store"] > 0
    assert m["full_min"] <= m["full"] <= m["full_max"]


def test_the_ingest_bench_says_when_its_peer_waits_for_the_publisher() -> None:
    from bench.ingest import bound_note

    assert bound_note(paho=6_000, ceiling=10_000) == []
    assert "upper bound" in bound_note(paho=9_300, ceiling=10_000)[0][1]


@pytest.mark.broker
def test_the_three_mqtt_clients_each_drain_the_whole_backlog(
    mosquitto_factory: Callable[[], MosquittoProcess],
) -> None:
    """measure() fails unless every side received every queued message."""
    rates = mqtt_clients.measure(mosquitto_factory().url, messages=300, runs=1)
    assert set(rates) == set(mqtt_clients.SIDES)
    assert all(len(v) == 1 and v[0] > 0 for v in rates.values())


def test_the_visits_bench_generates_every_plan_and_ends_idle(
    new_pg_database: Callable[[], str],
) -> None:
    url = new_pg_database()
    store = open_store(url)

    def delete() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM visit_tasks")

    try:
        m = visits.measure(store, delete, n=30, runs=2)
    finally:
        store.close()
    with psycopg.connect(url) as conn:
        (stored,) = conn.execute("SELECT count(*) FROM visit_tasks").fetchone() or (0,)
        (plans,) = conn.execute(
            "SELECT count(DISTINCT resident_id) FROM visit_tasks"
        ).fetchone() or (0,)
    # the last run's first generation made what is stored, and every plan has its tasks
    # (begun a month before: a weekly plan four or five, a fortnightly two or three)
    assert m["tasks"] == stored and plans == 30 and stored >= 30 * 2
