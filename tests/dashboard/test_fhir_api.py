"""The FHIR export over the API: media type, validity, paging by next links, scoping."""

from __future__ import annotations

import pytest

from hub.store.base import IngestBatch, TelemetryRow
from tests.dashboard.conftest import T0, World, error_code
from tests.helpers.fhir_check import check_bundle

STAFF_A, STAFF_B, FAM_A = "station_staff.a", "station_staff.b", "family.a"
URL = "/api/residents/r-a/fhir"
DAY = {"from": "2026-01-01", "to": "2026-01-01"}  # local (Asia/Shanghai) day of T0


@pytest.fixture
def measured(world: World) -> World:
    """Twenty readings of station A's wearable, a minute apart, from T0 (08:00 local)."""
    rows = [TelemetryRow("w-a", i, T0 + 60.0 * i, T0 + 60.0 * i + 1,
                         {"hr": 70.0 + i, "spo2": 97.0, "sbp": 120.0, "dbp": 80.0})
            for i in range(20)]  # fmt: skip
    world.store.write_batch(IngestBatch(telemetry=rows))
    world.clock.t = T0 + 7200.0
    return world


def test_a_days_vitals_as_one_valid_bundle(measured: World) -> None:
    r = measured.client.get(URL, params=DAY, headers=measured.as_user(STAFF_A))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/fhir+json"
    body = r.json()
    obs = check_bundle(body)
    assert len(obs) == 20 * 3  # heart rate, SpO2, a blood pressure panel
    assert [e["resource"]["resourceType"] for e in body["entry"][:2]] == ["Patient", "Device"]
    assert [link["relation"] for link in body["link"]] == ["self"]


def test_pages_follow_next_links_to_the_end(measured: World) -> None:
    url: str | None = URL
    params: dict[str, str] | None = {**DAY, "_count": "7"}
    seen: list[str] = []
    pages = 0
    while url:
        r = measured.client.get(url, params=params, headers=measured.as_user(STAFF_A))
        assert r.status_code == 200, r.text
        obs = check_bundle(r.json())
        assert len(obs) <= 7
        seen += [o["id"] for o in obs]
        links = {link["relation"]: link["url"] for link in r.json()["link"]}
        url, params, pages = links.get("next"), None, pages + 1  # the link has the query
    assert len(seen) == len(set(seen)) == 60 and pages == 10  # 2 instants (6) a page


def test_only_for_staff_who_see_the_resident(measured: World) -> None:
    assert measured.client.get(URL, headers=measured.as_user(STAFF_B)).status_code == 404
    assert measured.client.get(URL, headers=measured.as_user(FAM_A)).status_code == 403


def test_bad_input_is_refused_clearly(measured: World) -> None:
    h = measured.as_user(STAFF_A)
    r = measured.client.get(URL, params={"from": "2026-01-02", "to": "2026-01-01"}, headers=h)
    assert r.status_code == 422 and error_code(r) == "invalid_period"
    r = measured.client.get(URL, params={"_count": "100000"}, headers=h)
    assert r.status_code == 422 and error_code(r) == "validation_error"
    r = measured.client.get(URL, params={"after": "nan"}, headers=h)
    assert r.status_code == 422


def test_default_period_is_the_local_day(measured: World) -> None:
    r = measured.client.get(URL, headers=measured.as_user(STAFF_A))
    assert len(check_bundle(r.json())) == 60
