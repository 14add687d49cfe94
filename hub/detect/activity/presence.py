"""Leaving and coming home: exit-door openings, the indoor activity that proves someone is
still in, the way back in, and ``night_exit``.

An exit door (a door event whose ``door`` names the way out, ``exit_doors``; an unnamed
contact is an interior one, :mod:`hub.detect.activity.events`) that opens starts a watch:
indoor activity later than ``exit_settle_s`` after it (earlier is the person walking out
past the hall sensor) means nobody left. With none by ``exit_confirm_s`` the resident is
**out**: at night (the ``night_h`` window, unless the resident routinely leaves in that
hour, ``p_exit[h] ≥ routine_exit_p`` once learned) that is ``night_exit`` (high, wandering
risk in dementia); by day it only holds back the silence rules until the resident is back.

While the resident is out, an exit-door event is the way back in, never a new exit: a
resident coming home late and going straight to bed, with nothing indoors to see them, is
home. So is one whose indoor activity resumes (later than ``exit_settle_s`` after the exit).
"""

from __future__ import annotations

from hub.detect.activity.clock import hhmm, in_window
from hub.detect.activity.events import SensorEvent
from hub.detect.activity.params import Params
from hub.detect.activity.report import finding, resumed
from hub.detect.activity.state import Resident
from hub.detect.findings import EvidenceValue, Finding


def is_exit(p: Params, e: SensorEvent) -> bool:
    """A door event of a door out of the home (named in ``exit_doors``)."""
    return e.door in p.exit_doors


def on_event(
    p: Params, rid: str, st: Resident, e: SensorEvent, ts: float, now: float
) -> list[Finding]:
    """Exit-door openings, and the return home of a resident who is out."""
    if is_exit(p, e):
        if st.out_since is not None:
            return _back(rid, st, e, ts, now)  # out: the front door is the way back in
        if e.fields.get("open") is True:
            st.door_at, st.door_name = ts, str(e.fields.get("door"))
        return []
    if st.door_at is not None and ts > st.door_at + p.exit_settle_s:
        st.door_at = None  # someone is inside: nobody left
    if st.out_since is None or ts <= st.out_since + p.exit_settle_s:
        return []
    return _back(rid, st, e, ts, now)


def _back(rid: str, st: Resident, e: SensorEvent, ts: float, now: float) -> list[Finding]:
    st.out_since, st.door_at, flagged, st.out_flag = None, None, st.out_flag, False
    return [resumed(rid, e.device_id, "night_exit", now, ts)] if flagged else []


def check(p: Params, rid: str, st: Resident, judged: float, now: float) -> list[Finding]:
    """``night_exit`` once the door was open ``exit_confirm_s`` ago with nobody inside."""
    door_at = st.door_at
    if door_at is None or judged - door_at < p.exit_confirm_s:
        return []
    st.door_at, st.out_since, st.bed_out = None, door_at, None
    st.end_bath()
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
    zh = f"夜间 {at} 入户门（{st.door_name}）打开后屋内 {minutes:.0f} 分钟无活动，老人可能已外出"
    en = (f"Exit door ({st.door_name}) opened at {at} at night, no movement inside for "
          f"{minutes:.0f} min")  # fmt: skip
    return [finding(rid, st.device, "night_exit", "high", now, ev, zh, en)]
