"""``long_bathroom``: a stay in the bathroom past ``bathroom_s`` (medium) and
``bathroom_high_s`` (high). Falls of older people at home happen most often in the bathroom
(Stevens et al., J Safety Res 42(4), 2011).

A stay starts with toilet presence or bathroom motion and ends with a toilet vacancy or a
sign of the person elsewhere.
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
    occupied = e.fields.get("occupied") is True
    if (e.type == "toilet" and occupied) or (e.type == "motion" and room in p.bathrooms):
        if st.bath_since is None:
            st.bath_since, st.bath_level, st.bath_room = ts, 0, e.room or "bathroom"
        return []
    # a button or a sensor without a room says nothing about where the person is
    if st.bath_since is None or not (e.type in ("door", "bed", "toilet") or room):
        return []
    flagged, st.bath_since, st.bath_level = st.bath_level, None, 0
    return [resumed(rid, e.device_id, "long_bathroom", now, ts)] if flagged else []


def check(p: Params, rid: str, st: Resident, judged: float, now: float) -> list[Finding]:
    if st.bath_since is None:
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
