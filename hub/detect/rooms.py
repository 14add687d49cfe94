"""Room names in the reasons the detectors write: devices say ``kitchen``, ``living`` or
``Living Room``; people read 厨房 or "living room". Unknown rooms are shown as sent (a
gateway may already use the household's own names, often in Chinese).

>>> room_names("Living Room"), room_names("wc"), room_names("阁楼")
(('客厅', 'living room'), ('卫生间', 'bathroom'), ('阁楼', '阁楼'))
"""

from __future__ import annotations

from typing import Final

ROOMS: Final[dict[str, tuple[str, str]]] = {
    "kitchen": ("厨房", "kitchen"),
    "living_room": ("客厅", "living room"),
    "bedroom": ("卧室", "bedroom"),
    "bathroom": ("卫生间", "bathroom"),
    "entrance": ("门口", "entrance"),
    "balcony": ("阳台", "balcony"),
    "dining_room": ("餐厅", "dining room"),
    "study": ("书房", "study"),
    "hallway": ("走廊", "hallway"),
}
"""Canonical room keys (the dashboard's ``room.*`` messages use the same keys)."""

ALIASES: Final[dict[str, str]] = {
    "living": "living_room", "lounge": "living_room", "sitting_room": "living_room",
    "toilet": "bathroom", "wc": "bathroom", "bath": "bathroom", "restroom": "bathroom",
    "washroom": "bathroom", "bed_room": "bedroom", "bed": "bedroom", "master_bedroom": "bedroom",
    "door": "entrance", "front_door": "entrance", "hall": "hallway", "corridor": "hallway",
    "dining": "dining_room", "cooking": "kitchen",
}  # fmt: skip


def room_key(room: str) -> str | None:
    """The canonical key of a room as a device names it, or None when unknown."""
    key = room.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    return key if key in ROOMS else None


def room_names(room: str) -> tuple[str, str]:
    """(Chinese, English) names of a room; an unknown room as sent, in both."""
    key = room_key(room)
    return ROOMS[key] if key else (room, room)
