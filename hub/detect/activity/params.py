"""The activity detector's hyperparameters, kept under their constructor names.

Every minute and quantile here is an operational default for the care station to tune per
resident, not a clinical cut-off (see ``docs/detectors.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.detect.activity.events import BATHROOMS, EXIT_DOORS, door_name


@dataclass(kw_only=True, eq=False)
class Params:
    """Hyperparameters of :class:`~hub.detect.activity.ActivityDetector`.

    >>> Params(bathroom_s=600.0, bathroom_high_s=300.0)
    Traceback (most recent call last):
    ...
    ValueError: bathroom_high_s must not be shorter than bathroom_s
    """

    grace_period: int = 7
    """Learned days before routine-based findings (``inactivity``, learned ``not_up``)."""
    halflife_days: float = 14.0
    """Observed days after which a day's weight in the routine has halved."""
    inactivity_p: float = 0.01
    """Chance of so long a silence on a routine day below which it is ``inactivity``."""
    min_inactivity_s: float = 2 * 3600.0
    max_hour_p: float = 0.98
    """Cap on an hour's learned activity probability (no hour is certain)."""
    prior_days: float = 1.0
    """Pseudo-days, half of them active, added to every hour when the silence rule weighs
    it: a week in which an hour was always active does not make a quiet one impossible."""
    morning_start_h: float = 5.0
    """The first activity after this local hour is the day's get-up."""
    getup_days: int = 28
    getup_quantile: float = 0.9
    not_up_margin_s: float = 3600.0
    warmup_not_up_h: float | None = 9.0
    """Fixed ``not_up`` deadline while the routine is learned; ``None`` turns it off."""
    getup_early_s: float = 1800.0
    night_h: tuple[float, float] = (22.0, 6.0)
    exit_settle_s: float = 120.0
    exit_confirm_s: float = 600.0
    routine_exit_p: float = 0.3
    bathroom_s: float = 40 * 60.0
    bathroom_high_s: float = 60 * 60.0
    bathroom_repeat_s: float = 10 * 60.0
    """Bathroom motion again within this time is evidence of presence (a one-off is not)."""
    out_of_bed_s: float = 30 * 60.0
    bathrooms: frozenset[str] = BATHROOMS
    """Room names (and door names) of a bathroom, compared casefolded."""
    exit_doors: frozenset[str] = EXIT_DOORS
    """Door names of the way out; any other door, and an unnamed one, is interior."""
    utc_offset_s: float = 8 * 3600.0
    decay: float = field(init=False, repr=False)
    """Per observed day: ``0.5 ** (1 / halflife_days)``."""

    def __post_init__(self) -> None:
        if not 0.0 < self.inactivity_p < 1.0 or not 0.0 < self.max_hour_p < 1.0:
            raise ValueError("inactivity_p and max_hour_p must lie in (0, 1)")
        if self.bathroom_high_s < self.bathroom_s:
            raise ValueError("bathroom_high_s must not be shorter than bathroom_s")
        if self.prior_days < 0 or self.bathroom_repeat_s <= 0:
            raise ValueError("prior_days must not be negative, bathroom_repeat_s must be > 0")
        warm = self.warmup_not_up_h
        if warm is not None and not self.morning_start_h < warm < 24.0:
            raise ValueError("warmup_not_up_h must lie between morning_start_h and 24")
        self.bathrooms = frozenset(r.casefold() for r in self.bathrooms)
        self.exit_doors = frozenset(n for d in self.exit_doors if (n := door_name(d)))
        self.decay = 0.5 ** (1.0 / self.halflife_days)
