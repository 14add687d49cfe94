"""``long_bathroom``: a stay in the bathroom past ``bathroom_s`` (medium) and
``bathroom_high_s`` (high). Falls of older people at home happen most often in the bathroom
(Stevens et al., J Safety Res 42(4), 2011).

A stay starts with the first sign of the person in the bathroom: toilet presence, motion in
a bathroom, or any other event there (a contact with a bathroom ``room``, the bathroom
door). It ends with a toilet vacancy or a sign of the person elsewhere.

It is **judged** only once there is evidence that the person is in there: toilet presence
(``occupied``), or bathroom motion repeated within ``bathroom_repeat_s``; then the stay
counts from its first sign. A one-off event (one motion, a cabinet opened) is no such
evidence: the person may have walked on to a room without sensors. Then the rule judges
nothing on time alone and waits for the next sign: in the bathroom again (motion within
``bathroom_repeat_s`` makes it a stay, a later one starts afresh) or elsewhere (no stay).
A silence meanwhile is the inactivity rule's to judge (:mod:`hub.detect.activity.silence`).
"""

from __future__ import annotations

from hub.detect.activity.events import SensorEvent
from hub.detect.activity.params import Params
from hub.detect.activity.report import finding, resumed
from hub.detect.activity.state import Resident
from hub.detect.findings import EvidenceValue, Finding, Priority


def on_event(
    p: Params, rid: str, st: Resident, e: SensorEvent, ts: float, now: float
) -> list[Finding]:
    room = (e.room or "").casefold()
    if e.type == "toilet" and e.fields.get("occupied") is True:
        _sign(p, st, e, ts)
        st.bath_present = True
        return []
    if e.type != "toilet" and (room in p.bathrooms or e.door in p.bathrooms):
        _sign(p, st, e, ts)
        if e.type == "motion":
            if st.bath_motion is not None and ts - st.bath_motion <= p.bathroom_repeat_s:
                st.bath_present = True
            st.bath_motion = ts
        return []
    # a button or a sensor without a room says nothing about where the person is
    if st.bath_since is None or not (e.type in ("door", "bed", "toilet") or room):
        return []
    flagged = st.end_bath()
    return [resumed(rid, e.device_id, "long_bathroom", now, ts)] if flagged else []


def _sign(p: Params, st: Resident, e: SensorEvent, ts: float) -> None:
    """A sign of the person in the bathroom: it starts a stay, or goes on with one."""
    last = st.bath_last
    if not st.bath_present and last is not None and ts - last > p.bathroom_repeat_s:
        st.end_bath()  # the earlier one-off was a visit of its own: this one starts afresh
    if st.bath_since is None:
        st.bath_since, st.bath_level, st.bath_room = ts, 0, e.room or "bathroom"
    st.bath_last = ts


def check(p: Params, rid: str, st: Resident, judged: float, now: float) -> list[Finding]:
    if st.bath_since is None or not st.bath_present:
        return []
    stay = judged - st.bath_since
    level = 2 if stay >= p.bathroom_high_s else 1 if stay >= p.bathroom_s else 0
    if level <= st.bath_level:
        return []
    st.bath_level = level
    prio: Priority = "high" if level == 2 else "medium"
    m = stay / 60
    ev: dict[str, EvidenceValue] = {"minutes": round(m, 1), "room": st.bath_room,
                                    "since": st.bath_since}  # fmt: skip
    zh, en = f"在卫生间已停留 {m:.0f} 分钟", f"In the bathroom for {m:.0f} min"
    return [finding(rid, st.device, "long_bathroom", prio, now, ev, zh, en)]
