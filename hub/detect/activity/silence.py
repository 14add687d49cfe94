"""Silence at home: ``not_up`` in the morning and ``inactivity`` at other times (medium).

``inactivity``: the chance of a silence this long on a routine day,
``Π (1 − p[h])^(fraction of hour h silent)`` over the hours after the one of the last
activity (that hour was an active one), fell below ``inactivity_p`` and the silence lasted
``min_inactivity_s``, so the threshold is short in hours the resident is nearly always
active and long in hours they often rest. ``p[h]`` is the learned routine with
``prior_days`` pseudo-days, half active, added (a week of data does not make a quiet hour
impossible) and capped at ``max_hour_p``.

``not_up``: no activity today by the learned morning deadline (the ``getup_quantile`` of
the last ``getup_days`` get-ups plus ``not_up_margin_s``); until the routine is learned, by
the fixed ``warmup_not_up_h``, from the first morning the detector watched whole. In the
morning ``not_up`` replaces ``inactivity``: one finding per silence.
"""

from __future__ import annotations

import math

from hub.detect.activity.clock import DAY_S, hhmm
from hub.detect.activity.params import Params
from hub.detect.activity.report import finding
from hub.detect.activity.routine import log_quiet
from hub.detect.activity.state import Resident
from hub.detect.findings import EvidenceValue, Finding


def check(p: Params, rid: str, st: Resident, judged: float, now: float) -> list[Finding]:
    """Judge the silence since the last activity up to ``judged``."""
    # an event past the horizon may have begun a later local day: the morning and the
    # hours of the day being judged are then no longer the ones held in ``st``
    if st.last_activity is None or st.zone.day(judged) != st.day:
        return []
    learned = st.days >= p.grace_period
    clock = st.zone.clock_s(judged)
    deadline = st.deadline if learned else warmup_deadline(p, st)
    silent = judged - st.last_activity
    common: dict[str, EvidenceValue] = {
        "last_activity": st.last_activity,
        "room": st.room,
        "days_learned": st.days,
        "minutes": round(silent / 60, 1),
    }
    if deadline is not None and st.up_at is None and clock >= p.morning_start_h * 3600:
        if clock < deadline:
            return []  # the morning belongs to not_up: one finding per silence
        return [_not_up(p, rid, st, now, deadline, learned, common)]
    if not learned or silent < p.min_inactivity_s:
        return []
    # the hour of the last activity was an active hour: the silence is improbable only in
    # the hours after it (counting its quiet rest too would make an hour the resident is
    # active in nearly every day, the lunch hour, look like a long silence once lunch is over)
    last = st.last_activity
    start = max(last + 3600.0 - st.zone.clock_s(last) % 3600.0, judged - 2 * DAY_S)
    chance = math.exp(log_quiet(p, st, st.p_prior(p.prior_days), start, judged))
    if chance >= p.inactivity_p:
        return []
    usual = float(st.p()[st.zone.hour(judged)])
    ev = {**common, "usual_hour_p": round(usual, 3), "chance": round(chance, 5)}
    m = silent / 60
    zh = f"已 {m:.0f} 分钟无活动，此时段平时 {usual:.0%} 的日子有活动"
    en = f"No activity for {m:.0f} min at a time the resident is active on {usual:.0%} of days"
    return [_flag(rid, st, "inactivity", now, ev, zh, en)]


def warmup_deadline(p: Params, st: Resident) -> float | None:
    """The fixed not-up deadline of the warm-up, once a whole morning was watched."""
    if p.warmup_not_up_h is None:
        return None
    morning = st.zone.day_start(st.day) + p.morning_start_h * 3600
    return p.warmup_not_up_h * 3600 if st.since <= morning else None


def _not_up(
    p: Params, rid: str, st: Resident, now: float, deadline: float, learned: bool,
    common: dict[str, EvidenceValue],
) -> Finding:  # fmt: skip
    due = hhmm(deadline)
    if not learned:
        ev = {**common, "deadline": due, "warmup": True}
        zh = f"到 {due} 仍未见起床活动（作息尚在学习，已观察 {st.days} 天）"
        en = f"Not up by {due} (routine still being learned: {st.days} days)"
        return _flag(rid, st, "not_up", now, ev, zh, en)
    usual = hhmm(deadline - p.not_up_margin_s)
    ev = {**common, "deadline": due, "usual_getup": usual}
    zh = f"到 {due} 仍未见起床活动（平时约 {usual} 前起床）"
    en = f"Not up by {due} (usually up by {usual})"
    return _flag(rid, st, "not_up", now, ev, zh, en)


def _flag(
    rid: str, st: Resident, kind: str, now: float, ev: dict[str, EvidenceValue], zh: str, en: str
) -> Finding:
    """Remember the flagged silence: it is not learned, and the next activity clears it."""
    st.flag, st.flag_since, st.flag_day = kind, st.last_activity or now, st.day
    return finding(rid, st.device, kind, "medium", now, ev, zh, en)
