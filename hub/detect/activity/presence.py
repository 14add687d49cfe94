"""Leaving and coming home: exit-door openings, the indoor activity that proves someone is
still in, and ``night_exit``.

An exit door (``door`` in ``exit_doors``) that opens starts a watch: indoor activity later
than ``exit_settle_s`` after it (earlier is the person walking out past the hall sensor)
means nobody left. With none by ``exit_confirm_s`` the resident is **out**: at night (the
``night_h`` window, unless the resident routinely leaves in that hour, ``p_exit[h] ≥
routine_exit_p`` once learned) that is ``night_exit`` (high, wandering risk in dementia);
by day it only holds back the silence rules until the resident is back.
"""

from __future__ import annotations

from hub.detect.activity.clock import hhmm, in_window
from hub.detect.activity.events import SensorEvent
from hub.detect.activity.params import Params
from hub.detect.activity.report import finding, resumed
from hub.detect.activity.state import Resident
from hub.detect.findings import EvidenceValue, Finding


def on_event(
    p: Params, rid: str, st: Resident, e: SensorEvent, ts: float, now: float
) -> list[Finding]:
    """Exit-door openings and the indoor activity that proves someone is home."""
    door = str(e.fields.get("door") or "front")
    if e.type == "door" and door.casefold() in p.exit_doors:
        if e.fields.get("open") is True:
            st.door_at, st.door_name = ts, door
        return []
    if st.door_at is not None and ts > st.door_at + p.exit_settle_s:
        st.door_at = None  # someone is inside: nobody left
    if st.out_since is None or ts <= st.out_since + p.exit_settle_s:
        return []
    # back home: the door that just opened was the way in, not a new exit
    st.out_since, st.door_at, flagged, st.out_flag = None, None, st.out_flag, False
    return [resumed(rid, e.device_id, "night_exit", now, ts)] if flagged else []


def check(p: Params, rid: str, st: Resident, judged: float, now: float) -> list[Finding]:
    """``night_exit`` once the door was open ``exit_confirm_s`` ago with nobody inside."""
    door_at = st.door_at
    if door_at is None or judged - door_at < p.exit_confirm_s:
        return []
    st.door_at, st.out_since = None, door_at
    st.bath_since, st.bed_out, st.bath_level = None, None, 0
    st.mark(door_at, st.exits)
    hour = st.zone.hour(door_at)
    p_exit = float(st.p_exit()[hour])
    routine = st.days >= p.grace_period and p_exit >= p.routine_exit_p
    if not in_window(st.zone.clock_s(door_at), *p.night_h) or routine:
        return []
    st.out_flag = True
    at = hhmm(st.zone.clock_s(door_at))
    minutes = (judged - door_at) / 60
    ev: dict[str, EvidenceValue] = {
        "door": st.door_name,
        "door_at": door_at,
        "minutes": round(minutes, 1),
        "usual_exit_p": round(p_exit, 3),
        "days_learned": st.days,
    }
    zh = f"夜间 {at} 大门打开后屋内 {minutes:.0f} 分钟无活动，老人可能已外出"
    en = f"Front door opened at {at} at night, no movement inside for {minutes:.0f} min"
    return [finding(rid, st.device, "night_exit", "high", now, ev, zh, en)]
