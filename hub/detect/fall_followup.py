"""What happens after a fall alarm: a long lie raises the priority, getting up closes it.

After a fall the detector follows the same stream in blocks of one second of working-rate
bins. A block is *active* when the standard deviation of ``|a|`` in it reaches
``walk_std_g`` (walking or standing up moves the body's ``|a|`` by tenths of a g), *still*
when it stays below ``still_std_g``. ``recover_s`` consecutive active seconds mean the
person is up and moving: a ``fall_recovered`` finding ends the follow-up. Without such a
recovery ``long_lie_s`` seconds of data after the alarm, a ``long_lie`` finding (high
priority) is raised once; the follow-up continues until recovery. Lying on the floor for
an hour or more is associated with serious harm (Tinetti et al., JAMA 269(1), 1993), which
is why the long lie is reported after a minute rather than waiting longer.

Time is counted in bins of data received, so a device clock that jumps does not shorten
or lengthen the wait; bins without data (NaN) count as time but not as movement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hub.detect.findings import Finding


@dataclass(slots=True)
class FollowUp:
    """Per-device state after a fall alarm (one instance while a fall is open)."""

    fall_at: float
    bins: int = 0
    blk_n: int = 0
    blk_sum: float = 0.0
    blk_sq: float = 0.0
    blocks: int = 0
    still_blocks: int = 0
    active_run: int = 0
    long_lie_sent: bool = False


@dataclass(frozen=True, slots=True)
class FollowUpRules:
    """Hyperparameters of the follow-up, in seconds and g."""

    working_hz: float
    long_lie_s: float = 60.0
    recover_s: float = 4.0
    walk_std_g: float = 0.12
    still_std_g: float = 0.04

    @property
    def block(self) -> int:
        """Bins per one-second block."""
        return max(1, round(self.working_hz))


def step(
    state: FollowUp,
    rules: FollowUpRules,
    device_id: str,
    mags: NDArray[np.float64],
    ends: NDArray[np.float64],
) -> tuple[list[Finding], bool]:
    """Advance the follow-up over bins with mean ``|a|`` ``mags`` ending at times ``ends``.

    Returns the findings and whether the follow-up is over (the person got up).
    """
    out: list[Finding] = []
    block = rules.block
    need_active = max(1, round(rules.recover_s))
    long_bins = round(rules.long_lie_s * rules.working_hz)
    for m, end in zip(mags.tolist(), ends.tolist(), strict=True):
        state.bins += 1
        if not math.isnan(m):
            state.blk_n += 1
            state.blk_sum += m
            state.blk_sq += m * m
        if state.bins % block == 0:
            if state.blk_n >= block // 2:
                mean = state.blk_sum / state.blk_n
                std = max(state.blk_sq / state.blk_n - mean * mean, 0.0) ** 0.5
                state.active_run = state.active_run + 1 if std >= rules.walk_std_g else 0
                state.still_blocks += int(std < rules.still_std_g)
            else:
                state.active_run = 0
            state.blocks += 1
            state.blk_n, state.blk_sum, state.blk_sq = 0, 0.0, 0.0
            if state.active_run >= need_active:
                down = state.bins / rules.working_hz
                out.append(_recovered(device_id, end, down, state))
                return out, True
        if not state.long_lie_sent and state.bins >= long_bins:
            state.long_lie_sent = True
            out.append(_long_lie(device_id, end, state.bins / rules.working_hz, state))
    return out, False


def _still_fraction(state: FollowUp) -> float:
    return state.still_blocks / state.blocks if state.blocks else 0.0


def _long_lie(device_id: str, at: float, down_s: float, state: FollowUp) -> Finding:
    frac = _still_fraction(state)
    return Finding(
        device_id,
        "long_lie",
        "high",
        at,
        {"fall_at": state.fall_at, "down_s": round(down_s, 1), "still_fraction": round(frac, 3)},
        {
            "zh-CN": f"跌倒后 {down_s:.0f} 秒仍未起身（{frac:.0%} 时间静止）",
            "en": f"Still down {down_s:.0f} s after the fall (still {frac:.0%} of the time)",
        },
    )


def _recovered(device_id: str, at: float, down_s: float, state: FollowUp) -> Finding:
    return Finding(
        device_id,
        "fall_recovered",
        "low",
        at,
        {"fall_at": state.fall_at, "down_s": round(down_s, 1), "long_lie": state.long_lie_sent},
        {
            "zh-CN": f"跌倒后已起身活动（倒地约 {down_s:.0f} 秒）",
            "en": f"Up and moving again after the fall (down about {down_s:.0f} s)",
        },
    )
