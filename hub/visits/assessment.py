"""What a visit record says of the elder: a small structured assessment from fixed lists
(the dashboard shows each value in both languages: ``mood.good``, ``need.meals`` ...), the needs
found, free notes, and an optional reference to a photo kept elsewhere.

>>> check_assessment("good", "walks_alone", "adequate", ["meals"])
>>> check_assessment("ecstatic", "walks_alone", "adequate", [])
Traceback (most recent call last):
...
ValueError: mood must be one of good, fair, low, distressed
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

MOODS: Final = ("good", "fair", "low", "distressed")
MOBILITY: Final = ("walks_alone", "walks_with_aid", "needs_help", "bedridden")
LIVING: Final = ("good", "adequate", "poor", "unsafe")
"""Living conditions: clean and safe ... a hazard found (gas, wiring, no heating)."""
NEEDS: Final = (
    "meals", "cleaning", "bathing", "medical", "medication", "repair", "companionship",
    "financial", "other",
)  # fmt: skip
NOTES_MAX: Final = 2000
PHOTO_REF_MAX: Final = 500
"""A photo is not stored here: ``photo_ref`` names where the station keeps it."""


def check_assessment(mood: str, mobility: str, living: str, needs: Sequence[str]) -> None:
    """ValueError naming the first value not in its list."""
    for name, value, allowed in (("mood", mood, MOODS), ("mobility", mobility, MOBILITY),
                                 ("living", living, LIVING)):  # fmt: skip
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}")
    for need in needs:
        if need not in NEEDS:
            raise ValueError(f"needs must be among {', '.join(NEEDS)}")
