"""FHIR resources, bundles and paging: every bundle validated (tests/helpers/fhir_check)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from pydantic import ValidationError

from hub.fhir.bundle import bundle
from hub.fhir.paging import read_page
from hub.fhir.resources import observations, patient
from hub.store.base import Device, IngestBatch, Resident, TelemetryRow
from hub.store.sqlite import SqliteStore
from tests.helpers.fhir_check import check_bundle

T0 = 1_767_225_600.0
RESIDENT = Resident("r_01:a", "st-1", "王秀英", birth_year=1941, clinical={"gender": "female",
                    "hr_high": 110})  # fmt: skip
DEVICES = [
    Device("w-1", "wearable", vendor="acme", model="W2", firmware="1.2.0", resident_id="r_01:a"),
    Device("bp-1", "bp_monitor", resident_id="r_01:a"),
]


def _bundle(rows: list[TelemetryRow]) -> dict:  # type: ignore[type-arg]
    return bundle(RESIDENT, DEVICES, rows, now=T0, self_url="https://hub.example/api/x")


def test_every_vital_sign_with_its_code_and_unit() -> None:
    row = TelemetryRow("w-1", 1, T0 + 0.25, T0 + 1, {
        "hr": 72.0, "spo2": 97.0, "rr": 16.0, "temp": 36.6, "sbp": 130.0, "dbp": 80.0,
        "battery": 88.0, "glucose": 6.1,
    })  # fmt: skip
    obs = check_bundle(_bundle([row]))
    codes = [o["code"]["coding"][0]["code"] for o in obs]
    assert codes == ["8867-4", "59408-5", "9279-1", "8310-5", "85354-9"]  # no battery/glucose
    hr, temp, bp = obs[0], obs[3], obs[4]
    assert hr["valueQuantity"]["value"] == 72.0
    ucum = "http://unitsofmeasure.org"
    assert temp["valueQuantity"] == {"value": 36.6, "unit": "Cel", "system": ucum, "code": "Cel"}
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"])
            for c in bp["component"]] == [("8480-6", 130.0), ("8462-4", 80.0)]  # fmt: skip
    assert hr["effectiveDateTime"] == "2026-01-01T00:00:00.250000Z"


def test_patient_and_device_carry_no_internal_data() -> None:
    b = _bundle([])
    p, w, bp = (e["resource"] for e in b["entry"])
    assert p["resourceType"] == "Patient" and p["gender"] == "female"
    assert p["birthDate"] == "1941" and p["name"] == [{"text": "王秀英"}]
    assert p["identifier"][0]["value"] == "r_01:a"  # ours, not a valid FHIR id: kept here
    assert "hr_high" not in str(b) and "clinical" not in str(b)
    assert (w["manufacturer"], w["modelNumber"], w["version"]) == (
        "acme",
        "W2",
        [{"value": "1.2.0"}],
    )
    assert w["patient"]["reference"] == f"urn:uuid:{p['id']}"
    assert bp["identifier"][0]["value"] == "bp-1"
    assert patient(RESIDENT)["id"] == p["id"]  # stable across exports
    assert "gender" not in patient(Resident("r-2", "st-1", "李", clinical={"gender": "m"}))


def test_a_lone_diastolic_makes_a_panel_of_one_component() -> None:
    [panel] = observations(TelemetryRow("bp-1", 1, T0, T0, {"dbp": 81.0}), "p", "d")
    assert [c["code"]["coding"][0]["code"] for c in panel["component"]] == ["8462-4"]


def test_the_validator_refuses_a_broken_observation() -> None:
    b = _bundle([TelemetryRow("w-1", 1, T0, T0, {"hr": 70.0})])
    del b["entry"][-1]["resource"]["status"]
    with pytest.raises(ValidationError):
        check_bundle(b)
    b = _bundle([TelemetryRow("w-1", 1, T0, T0, {"hr": 70.0})])
    b["entry"][-1]["resource"]["valueQuantity"]["code"] = "bpm"  # valid FHIR, not our unit
    with pytest.raises(AssertionError):
        check_bundle(b)


@pytest.fixture(scope="module")
def readings(tmp_path_factory: pytest.TempPathFactory) -> tuple[SqliteStore, list[TelemetryRow]]:
    """Two devices: readings interleaved, some at the same instant, some without vitals."""
    store = SqliteStore(tmp_path_factory.mktemp("fhir") / "c.db")
    store.migrate()
    rows = []
    for i in range(300):  # 150 a device: more than a page fetches (count + SLACK)
        ts = T0 + (i // 2) * 10.0  # pairs of readings at one instant
        dev = "w-1" if i % 2 else "bp-1"
        values = (
            {"battery": 90.0}
            if i % 7 == 0
            else (
                {"hr": 60.0 + i, "spo2": 97.0} if dev == "w-1" else {"sbp": 120.0 + i, "dbp": 80.0}
            )
        )
        rows.append(TelemetryRow(dev, i, ts, ts + 0.5, values))
    store.write_batch(IngestBatch(telemetry=rows))
    return store, rows


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(count=hs.integers(min_value=1, max_value=120))
def test_pages_cover_every_reading_once(readings: tuple[SqliteStore, list[TelemetryRow]],
                                        count: int) -> None:  # fmt: skip
    store, rows = readings
    wanted = [(r.device_id, r.seq) for r in rows if "battery" not in r.values]
    got: list[tuple[str, int]] = []
    after = None
    for n in range(400):
        page = read_page(store, ["bp-1", "w-1"], T0, T0 + 3600.0, after=after, count=count)
        assert page.observations <= max(count, 3)  # an instant holds 3 observations at most
        times = [r.ts for r in page.rows]
        assert times == sorted(times) and (after is None or min(times, default=after + 1) > after)
        got += [(r.device_id, r.seq) for r in page.rows]
        if n < 3:
            check_bundle(_bundle(page.rows))
        if page.next_after is None:
            break
        after = page.next_after
    assert sorted(got) == sorted(wanted) and len(got) == len(set(got))


def test_a_page_stops_at_the_period(readings: tuple[SqliteStore, list[TelemetryRow]]) -> None:
    store, _ = readings
    page = read_page(store, ["bp-1", "w-1"], T0, T0 + 20.0, count=1000)
    assert {r.ts for r in page.rows} <= {T0, T0 + 10.0} and page.next_after is None
