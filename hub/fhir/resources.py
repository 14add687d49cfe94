"""Patient, Device and Observation resources (FHIR R4) as plain dicts (pure).

Resource ids are UUIDs derived from our own ids (:func:`resource_id`): FHIR ids allow only
``[A-Za-z0-9.-]``, ours also ``_`` and ``:``; the same resident or reading always gets the
same id, so repeated exports line up. Our id is kept as an ``identifier``. Nothing the hub
keeps for itself (credentials, clinician thresholds, the station's internals) is exported.

>>> obs = observations(TelemetryRow("w-1", 7, 0.0, 0.1, {"hr": 72.0, "sbp": 130.0}), "P", "D")
>>> [(o["code"]["coding"][0]["code"], o.get("valueQuantity", {}).get("code")) for o in obs]
[('8867-4', '/min'), ('85354-9', None)]
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Final

from hub.fhir.codes import (
    BP_COMPONENTS,
    BP_PANEL,
    CATEGORY_SYSTEM,
    LOINC,
    OBSERVATION_STATUS,
    UCUM,
    VITAL_SIGNS,
    VITALS,
    VitalCode,
)
from hub.store.base import Device, Resident, TelemetryRow

NAMESPACE: Final = uuid.UUID("5b2f6a49-3f0e-4a53-9d0c-6d1f8e7c2a10")
"""Namespace of the UUIDs of our resources (fixed: ids must stay the same across exports)."""
IDENTIFIER_SYSTEM: Final = "urn:carehub:id"
GENDERS: Final = frozenset({"male", "female", "other", "unknown"})

Json = dict[str, Any]


def resource_id(kind: str, *parts: object) -> str:
    """A stable UUID for a resource of ``kind`` named by ``parts``."""
    return str(uuid.uuid5(NAMESPACE, "|".join([kind, *(str(p) for p in parts)])))


def instant(ts: float) -> str:
    """Epoch seconds as a FHIR dateTime in UTC with microseconds when there are any."""
    dt = datetime.fromtimestamp(ts, UTC)
    text = dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _identifier(kind: str, value: str) -> list[Json]:
    return [{"system": f"{IDENTIFIER_SYSTEM}:{kind}", "value": value}]


def patient(r: Resident) -> Json:
    """The resident: name, birth year (FHIR dates may be a year), gender when the
    resident's record states one (``clinical["gender"]``, a FHIR administrative gender)."""
    out: Json = {
        "resourceType": "Patient", "id": resource_id("Patient", r.id),
        "identifier": _identifier("resident", r.id), "active": r.status != "inactive",
        "name": [{"text": r.name}],
    }  # fmt: skip
    gender = r.clinical.get("gender")
    if isinstance(gender, str) and gender in GENDERS:
        out["gender"] = gender
    if r.birth_year is not None:
        out["birthDate"] = f"{r.birth_year:04d}"
    return out


def device(d: Device, patient_id: str) -> Json:
    out: Json = {
        "resourceType": "Device", "id": resource_id("Device", d.id),
        "identifier": _identifier("device", d.id),
        "status": "active" if d.enabled else "inactive",
        "type": {"text": d.kind}, "patient": {"reference": f"urn:uuid:{patient_id}"},
    }  # fmt: skip
    if d.vendor:
        out["manufacturer"] = d.vendor
    if d.model:
        out["modelNumber"] = d.model
    if d.firmware:
        out["version"] = [{"value": d.firmware}]
    return out


def _code(v: VitalCode) -> Json:
    return {"coding": [{"system": LOINC, "code": v.loinc, "display": v.display}],
            "text": v.display}  # fmt: skip


def _quantity(value: float, v: VitalCode) -> Json:
    return {"value": value, "unit": v.unit, "system": UCUM, "code": v.unit}


def _observation(row: TelemetryRow, v: VitalCode, patient_id: str, device_id: str) -> Json:
    return {
        "resourceType": "Observation",
        "id": resource_id("Observation", row.device_id, row.ts, row.seq, v.field),
        "status": OBSERVATION_STATUS,
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": VITAL_SIGNS,
                                  "display": "Vital Signs"}]}],
        "code": _code(v),
        "subject": {"reference": f"urn:uuid:{patient_id}"},
        "device": {"reference": f"urn:uuid:{device_id}"},
        "effectiveDateTime": instant(row.ts),
    }  # fmt: skip


def observations(row: TelemetryRow, patient_id: str, device_id: str) -> list[Json]:
    """The Observations of one telemetry row: one a vital sign it carries, and one blood
    pressure panel when it carries systolic or diastolic pressure."""
    out = []
    for v in VITALS:
        value = row.values.get(v.field)
        if value is not None:
            obs = _observation(row, v, patient_id, device_id)
            obs["valueQuantity"] = _quantity(value, v)
            out.append(obs)
    parts = [(c, row.values.get(c.field)) for c in BP_COMPONENTS]
    if any(value is not None for _, value in parts):
        panel = _observation(row, BP_PANEL, patient_id, device_id)
        panel["component"] = [
            {"code": _code(c), "valueQuantity": _quantity(value, c)}
            for c, value in parts if value is not None
        ]  # fmt: skip
        out.append(panel)
    return out


def observation_count(row: TelemetryRow) -> int:
    """How many Observations :func:`observations` makes of ``row`` (without making them)."""
    n = sum(row.values.get(v.field) is not None for v in VITALS)
    return n + any(row.values.get(c.field) is not None for c in BP_COMPONENTS)
