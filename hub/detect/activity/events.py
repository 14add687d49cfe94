"""What the activity rules consume: one home-sensor event of a resident, on the hub clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ResidentStatus = Literal["home", "away", "hospital", "inactive"]
ACTIVITY_TYPES = frozenset({"motion", "door", "bed", "toilet", "button", "sos"})
BATHROOMS = frozenset(
    {"bathroom", "toilet", "restroom", "wc", "washroom", "卫生间", "厕所", "浴室"}
)
EXIT_DOORS = frozenset({"front", "main", "entrance", "entry", "大门", "入户门", "前门"})


@dataclass(frozen=True, slots=True)
class SensorEvent:
    """One home-sensor event of a resident, time on the hub clock (epoch seconds)."""

    resident_id: str
    device_id: str
    type: str
    ts: float
    room: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Type-specific fields: ``active`` (motion), ``open``/``door`` (door), ``occupied``."""

    @classmethod
    def from_accepted(cls, resident_id: str, accepted: Any) -> SensorEvent:
        """Build from an accepted event message (``hub.ingest.core.Accepted``), correcting the
        device time by the estimated clock offset."""
        m = accepted.message
        offset = accepted.clock_offset_s or 0.0
        names = ("active", "open", "door", "occupied")
        fields = {n: getattr(m, n) for n in names if getattr(m, n, None) is not None}
        return cls(resident_id, accepted.device.id, m.type, float(m.ts) - offset, m.room, fields)
