"""Checking an exported FHIR Bundle: valid R4 (fhir.resources' R4B models, whose JSON is
R4's for these resources), and every Observation coded as our table says: fhir.resources
does not check coded values, so codes, units, status and category are checked here, and
every reference must resolve to an entry of the Bundle."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hub.fhir.codes import (
    BP_COMPONENTS,
    BP_PANEL,
    CATEGORY_SYSTEM,
    LOINC,
    OBSERVATION_STATUS,
    UCUM,
    VITAL_SIGNS,
    VITALS,
)

# written out by hand from the FHIR vital signs profile, not derived from hub.fhir.codes
EXPECTED = {
    "8867-4": "/min", "59408-5": "%", "9279-1": "/min", "8310-5": "Cel",
    "8480-6": "mm[Hg]", "8462-4": "mm[Hg]",
}  # fmt: skip
PANEL = "85354-9"


def check_bundle(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate ``data``; return its Observations (as dicts)."""
    Bundle.model_validate(data)
    assert data["type"] == "searchset"
    urls = [e["fullUrl"] for e in data["entry"]]
    assert len(urls) == len(set(urls)), "duplicate entries"
    kinds = {e["fullUrl"]: e["resource"]["resourceType"] for e in data["entry"]}
    assert {v.loinc: v.unit for v in (*VITALS, *BP_COMPONENTS)} == EXPECTED
    assert BP_PANEL.loinc == PANEL
    out = []
    for e in data["entry"]:
        r = e["resource"]
        assert e["fullUrl"] == f"urn:uuid:{r['id']}"
        if r["resourceType"] != "Observation":
            assert e["search"]["mode"] == "include"
            continue
        assert e["search"]["mode"] == "match"
        assert r["status"] == OBSERVATION_STATUS == "final"
        assert r["category"][0]["coding"][0] == {
            "system": CATEGORY_SYSTEM, "code": VITAL_SIGNS, "display": "Vital Signs"}  # fmt: skip
        assert kinds[r["subject"]["reference"]] == "Patient"
        assert kinds[r["device"]["reference"]] == "Device"
        assert r["effectiveDateTime"].endswith("Z")
        [coding] = r["code"]["coding"]
        assert coding["system"] == LOINC
        parts = r.get("component", [r])
        if coding["code"] == PANEL:
            assert "valueQuantity" not in r and 1 <= len(parts) <= 2
        else:
            assert coding["code"] in EXPECTED and "component" not in r
        for part in parts:
            [c] = part["code"]["coding"]
            q = part["valueQuantity"]
            assert c["system"] == LOINC and c["code"] in EXPECTED
            assert q["system"] == UCUM and q["code"] == q["unit"] == EXPECTED[c["code"]]
        out.append(r)
    return out
