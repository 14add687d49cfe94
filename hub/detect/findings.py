"""The one result type every detector returns: a :class:`Finding`.

A finding is a fact the hub noticed about one device at one moment ("a fall", "a long lie",
"SOS pressed"), with the numbers that led to it and a short reason in Chinese and English
that the dashboard shows as is. It is not an alert yet: the alert engine (``alerts/``)
decides whether it opens, updates or is suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Priority = Literal["high", "medium", "low"]
EvidenceValue = float | str | int | bool

LANGUAGES: tuple[str, str] = ("zh-CN", "en")
"""Languages every ``reason`` carries."""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a detector noticed about one device.

    Parameters
    ----------
    device_id:
        The device the data came from (identity from the MQTT topic).
    kind:
        What was found, e.g. ``"fall"``, ``"long_lie"``, ``"fall_recovered"``, ``"sos"``.
    priority:
        ``"high"``, ``"medium"`` or ``"low"``.
    at:
        When it was found, on the device clock, in epoch seconds.
    evidence:
        The numbers behind it (plain scalars only, so they serialise to JSON as they are).
    reason:
        A human-readable sentence per language, keys ``"zh-CN"`` and ``"en"``.

    Examples
    --------
    >>> f = Finding("w-1", "sos", "high", 1.7e9, {}, {"zh-CN": "按下求救", "en": "SOS pressed"})
    >>> f.kind, f.priority
    ('sos', 'high')
    """

    device_id: str
    kind: str
    priority: Priority
    at: float
    evidence: dict[str, EvidenceValue] = field(default_factory=dict)
    reason: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.priority not in ("high", "medium", "low"):
            raise ValueError(f"priority must be high, medium or low, not {self.priority!r}")
        missing = [lang for lang in LANGUAGES if lang not in self.reason]
        if missing:
            raise ValueError(f"reason lacks languages {missing}")


def judged_until(now: float, horizon: float) -> float:
    """The time up to which a tick may judge the *absence* of a message.

    ``horizon`` is the receive time of the oldest message the hub holds but has not passed
    to the detectors yet: up to it they know every message, beyond it they do not, so a
    silence, a stay or a missing return is measured up to ``min(now, horizon)``. A horizon
    that is no time at all (NaN, a bug upstream) does not silence the detectors: ``now``.

    >>> judged_until(100.0, float("inf")), judged_until(100.0, 40.0)
    (100.0, 40.0)
    >>> judged_until(100.0, float("nan")), judged_until(100.0, float("-inf"))
    (100.0, -inf)
    """
    return horizon if horizon < now else now
