"""What the activity rules consume: one home-sensor event of a resident, on the hub clock;
and what a door contact says it is on.

A door event names its contact in ``door`` (the device contract): the way out (``front``,
``back``, ``大门``...), an interior door by the room it leads to, a cupboard or an appliance
by what it is. Only a named way out is an exit; a contact without a name is an interior one
(the hub warns the vendor with ``door_unnamed``), so an unnamed bedroom door opening at
night is never taken for the resident leaving.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ResidentStatus = Literal["home", "away", "hospital", "inactive"]
ACTIVITY_TYPES = frozenset({"motion", "door", "bed", "toilet", "button", "sos"})
BATHROOMS = frozenset(
    {"bathroom", "toilet", "restroom", "wc", "washroom", "卫生间", "厕所", "浴室"}
)
EXIT_DOORS = frozenset(
    {"front", "main", "entrance", "entry", "back", "大门", "入户门", "进户门", "前门", "后门"}
)
"""Names of the doors out of the home (compared after :func:`door_name`)."""


def door_name(value: object) -> str | None:
    """A contact's name as the rules compare it: casefolded, ``_``/``-`` as spaces, without
    a trailing "door"; ``None`` when there is none.

    >>> door_name("Front_Door"), door_name("back-door"), door_name(" 入户门 "), door_name(None)
    ('front', 'back', '入户门', None)
    >>> door_name("door"), door_name("")
    (None, None)
    """
    if not isinstance(value, str):
        return None
    name = " ".join(value.casefold().replace("_", " ").replace("-", " ").split())
    return name.removesuffix("door").strip() or None


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

    @property
    def door(self) -> str | None:
        """The contact's name (:func:`door_name`) of a door event, else ``None``."""
        return door_name(self.fields.get("door")) if self.type == "door" else None
