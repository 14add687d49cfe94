"""Smoke tests of ``bench/detect.py`` and ``bench/provision.py`` at tiny sizes, so they do
not rot between runs. They check that both sides of each comparison did the same work,
not how fast (the machine is shared: no wall-clock assertion)."""

from __future__ import annotations

import pytest

from bench import detect, provision


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
def test_provisioning_imports_every_device_on_each_side(pg_url: str) -> None:
    m = provision.measure(pg_url, n=50, runs=2)
    assert m["full"] > 0 and m["store"] > 0
    assert m["full_min"] <= m["full"] <= m["full_max"]


def test_the_ingest_bench_says_when_its_peer_waits_for_the_publisher() -> None:
    from bench.ingest import bound_note

    assert bound_note(paho=6_000, ceiling=10_000) == []
    assert "upper bound" in bound_note(paho=9_300, ceiling=10_000)[0][1]
