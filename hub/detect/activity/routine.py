"""The learned routine: per local hour, how often the resident is active (and leaves home);
the get-up times and the morning deadline drawn from them.

A day is a vector ``x[h] ∈ {0, 1}`` (any activity event in hour ``h``) and
``p[h] = Σ wᵢ xᵢ[h] / Σ wᵢ`` over the observed days with weights halving every
``halflife_days`` observed days (an exponentially weighted mean, like river's EWMean but
bias-corrected). Hours not observed (away, before first seen, a flagged silence) and days
without any event (a dead gateway) are left out.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from hub.detect.activity.params import Params
from hub.detect.activity.state import Resident


def roll(p: Params, st: Resident, now: float) -> None:
    """Commit the finished local day(s) to the routine when ``now`` is in a later one."""
    today = st.zone.day(now)
    if today <= st.day:
        return
    held = st.away_since
    if st.flag is not None:
        held = st.flag_since if held is None else min(held, st.flag_since)
    if held is not None:
        st.exclude(held, math.inf)
    if st.events_today > 0:
        seen = ~st.excluded
        d = p.decay
        st.den[seen] = d * st.den[seen] + 1.0
        st.num[seen] = d * st.num[seen] + st.active[seen]
        st.num_exit[seen] = d * st.num_exit[seen] + st.exits[seen]
        st.days += 1
        if st.up_at is not None and st.up_home and st.flag_day != st.day:
            st.getups.append(st.up_at)  # woke at home, and the morning was not flagged
        st.deadline = deadline(p, st)  # get-ups change only here: compute once a day
    st.day = today
    st.active[:] = False
    st.exits[:] = False
    st.excluded[:] = False
    st.events_today, st.up_at = 0, None


def getups_learned(p: Params, st: Resident) -> bool:
    return st.days >= p.grace_period and len(st.getups) >= max(1, min(p.grace_period, 3))


def deadline(p: Params, st: Resident) -> float | None:
    """Not-up deadline (seconds after local midnight) from the learned get-up times."""
    if not getups_learned(p, st):
        return None
    q = float(np.quantile(np.fromiter(st.getups, float), p.getup_quantile))
    return q + p.not_up_margin_s


def usual_getup(p: Params, st: Resident, ts: float) -> bool:
    """Is a bed exit at ``ts`` this resident's morning get-up (learned routine: after
    ``morning_start_h`` and no earlier than ``getup_early_s`` before the earliest usual
    get-up, the ``1 - getup_quantile`` quantile)? An early riser is not out of bed at
    night."""
    if not getups_learned(p, st):
        return False
    clock = st.zone.clock_s(ts)
    if clock < p.morning_start_h * 3600:
        return False
    early = float(np.quantile(np.fromiter(st.getups, float), 1.0 - p.getup_quantile))
    return clock >= early - p.getup_early_s


def log_quiet(p: Params, st: Resident, hour_p: NDArray[np.float64], start: float, end: float
              ) -> float:  # fmt: skip
    """log Π (1 − p[h])^(fraction of hour h in [start, end])."""
    log_q = np.log1p(-np.minimum(hour_p, p.max_hour_p))
    total, t = 0.0, start
    while t < end:
        step = min(end, t + 3600.0 - st.zone.clock_s(t) % 3600.0) - t
        total += float(log_q[st.zone.hour(t)]) * step / 3600.0
        t += max(step, 1.0)
    return total
