"""The export of one resident over a period: a FHIR R4 ``searchset`` Bundle a page.

``searchset`` rather than ``collection``: the export answers a query (a resident and a
period), and FHIR defines paging links (``next``) and ``search.mode`` for search results
only. Entries: the Patient and the Devices (``search.mode = include``) on every page, so
each page stands on its own, then the page's Observations (``match``). References are
``urn:uuid:`` of the entries' ``fullUrl``, resolvable inside the Bundle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from hub.fhir.resources import Json, device, instant, observations, patient
from hub.store.base import Device, Resident, TelemetryRow


def _entry(resource: Json, mode: str) -> Json:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource,
            "search": {"mode": mode}}  # fmt: skip


def bundle(
    resident: Resident, devices: Sequence[Device], rows: Sequence[TelemetryRow], *,
    now: float, self_url: str, next_url: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The Bundle of one page of ``rows`` (readings of ``devices``)."""
    p = patient(resident)
    devs = {d.id: device(d, p["id"]) for d in devices}
    entries = [_entry(p, "include"), *(_entry(r, "include") for r in devs.values())]
    for row in rows:
        # rows come from these devices only (hub.fhir.paging reads them by device)
        obs = observations(row, p["id"], devs[row.device_id]["id"])
        entries.extend(_entry(o, "match") for o in obs)
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset",
            "timestamp": instant(now), "link": links, "entry": entries}  # fmt: skip
