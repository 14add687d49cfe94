"""Findings from events a device reports itself: its own fall detection and the SOS button.

A vendor's fall detection is trusted as a fall finding (high priority): the hub cannot see
the signal the device used, and a missed fall costs more than a false one. The hub's own
:class:`hub.detect.falls.FallDetector` runs beside it on the raw acceleration when the
device sends it; the alert engine merges both into one open alert per resident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.detect.findings import EvidenceValue, Finding
from hub.detect.rooms import room_names


def _scalars(data: Mapping[str, Any]) -> dict[str, EvidenceValue]:
    """Keep the plain scalar fields of an event as evidence (nested objects are dropped)."""
    out: dict[str, EvidenceValue] = {}
    for key, value in data.items():
        if isinstance(value, bool | int | float | str) and value is not None:
            out[str(key)] = value
    return out


def finding_from_event(
    device_id: str, type: str, at: float, data: Mapping[str, Any] | None = None
) -> Finding | None:
    """Map a device event to a finding; ``None`` for event types that are not findings.

    ``type`` is the event's ``type`` field (``"fall"``, ``"sos"``, ...), ``at`` its ``ts``,
    ``data`` the remaining fields (``confidence``, ``impact_g``, ``press``, ``room``...).

    >>> finding_from_event("w-1", "sos", 1.7e9, {"press": "long"}).kind
    'sos'
    >>> finding_from_event("w-1", "door", 1.7e9) is None
    True
    """
    fields = dict(data or {})
    evidence = _scalars(fields)
    evidence["source"] = "device"
    room = fields.get("room")
    zh_room, en_room = room_names(room) if isinstance(room, str) else ("", "")
    where_zh = f"（{zh_room}）" if isinstance(room, str) and room else ""
    where_en = f" ({en_room})" if isinstance(room, str) and room else ""
    if type == "sos":
        return Finding(
            device_id,
            "sos",
            "high",
            float(at),
            evidence,
            {"zh-CN": f"按下了求救按钮{where_zh}", "en": f"SOS button pressed{where_en}"},
        )
    if type == "fall":
        impact = fields.get("impact_g")
        if isinstance(impact, int | float) and not isinstance(impact, bool):
            zh = f"设备报告跌倒：冲击 {impact:.1f} g{where_zh}"
            en = f"Device reported a fall: {impact:.1f} g impact{where_en}"
        else:
            zh = f"设备报告跌倒{where_zh}"
            en = f"Device reported a fall{where_en}"
        return Finding(device_id, "fall", "high", float(at), evidence, {"zh-CN": zh, "en": en})
    return None
