"""FHIR R4 export of a resident's vital signs (``docs/fhir.md``).

- :mod:`hub.fhir.codes` — our table of LOINC codes and UCUM units per telemetry field.
- :mod:`hub.fhir.resources` — Patient, Device and Observation resources as plain dicts
  (pure; the tests validate them with the ``fhir.resources`` package, R4B models).
- :mod:`hub.fhir.paging` — a page of readings from the store, keyset-paged by device time.
- :mod:`hub.fhir.bundle` — the ``searchset`` Bundle of one page, with its ``next`` link.
"""
