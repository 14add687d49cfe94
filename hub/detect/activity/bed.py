"""``out_of_bed`` (medium): a bed exit at night and no return within ``out_of_bed_s``, when
that deadline is still night.

Once the routine is learned, a bed exit after ``morning_start_h`` and at most
``getup_early_s`` before the resident's earliest usual get-up is the morning get-up of an
early riser, not a night-time excursion (:func:`hub.detect.activity.routine.usual_getup`).
"""

from __future__ import annotations

from hub.detect.activity.clock import hhmm, in_window
from hub.detect.activity.events import SensorEvent
from hub.detect.activity.params import Params
from hub.detect.activity.report import finding, resumed
from hub.detect.activity.routine import usual_getup
from hub.detect.activity.state import Resident
from hub.detect.findings import EvidenceValue, Finding


def on_event(
    p: Params, rid: str, st: Resident, e: SensorEvent, ts: float, now: float
) -> list[Finding]:
    if e.type != "bed":
        return []
    if e.fields.get("occupied") is not False:
        flagged, st.bed_out, st.bed_flag = st.bed_flag, None, False
        return [resumed(rid, e.device_id, "out_of_bed", now, ts)] if flagged else []
    if not in_window(st.zone.clock_s(ts), *p.night_h):
        st.bed_out = None
    elif st.bed_out is None:
        st.bed_out = ts
    return []


def check(p: Params, rid: str, st: Resident, judged: float, now: float) -> list[Finding]:
    since = st.bed_out
    if since is None or st.bed_flag or judged - since < p.out_of_bed_s:
        return []
    due = st.zone.clock_s(since + p.out_of_bed_s)
    if not in_window(due, *p.night_h) or usual_getup(p, st, since):
        return []
    st.bed_flag = True
    at, m = hhmm(st.zone.clock_s(since)), (judged - since) / 60
    ev: dict[str, EvidenceValue] = {"since": since, "minutes": round(m, 1), "room": st.room}
    zh = f"夜间 {at} 离床，{m:.0f} 分钟未回到床上"
    en = f"Out of bed since {at} at night, not back after {m:.0f} min"
    return [finding(rid, st.device, "out_of_bed", "medium", now, ev, zh, en)]
