"""What each vital sign becomes in FHIR: its LOINC code and display, its UCUM unit.

Codes from the FHIR R4 vital signs profiles (HL7 FHIR R4, §"Vital Signs",
https://hl7.org/fhir/R4/observation-vitalsigns.html): every vital-signs Observation carries
the category ``vital-signs`` and one of these LOINC codes, with the UCUM unit given there.
The blood pressure is one panel (85354-9) with a systolic (8480-6) and a diastolic
(8462-4) component, never two separate Observations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS: Final = "vital-signs"


@dataclass(frozen=True, slots=True)
class VitalCode:
    field: str
    """The telemetry field (``hub.store.base.VITAL_FIELDS``)."""
    loinc: str
    display: str
    unit: str
    """UCUM code, also used as the human unit (as the vital signs profile does)."""


VITALS: Final[tuple[VitalCode, ...]] = (
    VitalCode("hr", "8867-4", "Heart rate", "/min"),
    VitalCode("spo2", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
    VitalCode("rr", "9279-1", "Respiratory rate", "/min"),
    VitalCode("temp", "8310-5", "Body temperature", "Cel"),
)
"""One Observation each: field → code and unit."""

BP_PANEL: Final = VitalCode("bp", "85354-9", "Blood pressure panel with all children optional",
                            "mm[Hg]")  # fmt: skip
BP_COMPONENTS: Final[tuple[VitalCode, ...]] = (
    VitalCode("sbp", "8480-6", "Systolic blood pressure", "mm[Hg]"),
    VitalCode("dbp", "8462-4", "Diastolic blood pressure", "mm[Hg]"),
)

EXPORTED_FIELDS: Final = frozenset({v.field for v in VITALS} | {v.field for v in BP_COMPONENTS})
"""Telemetry fields that become Observations (glucose, battery and the rest do not)."""

OBSERVATION_STATUS: Final = "final"
"""A device reading that the hub stored: complete, not to be amended."""
