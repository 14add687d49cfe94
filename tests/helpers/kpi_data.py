"""A small, hand-counted KPI data set: three stations in two districts, a dozen alerts
and the status history of three devices. The expected figures are written out beside it
(in tests/hub/kpi/test_kpi_store.py), worked out by hand from the comments here."""

from __future__ import annotations

from alerts import state as st
from alerts.storage import to_row
from hub.store.base import (
    AlertChanges,
    City,
    Device,
    District,
    IngestBatch,
    Resident,
    Station,
    StatusChange,
    Store,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86_400.0
START, END = T0, T0 + 10 * DAY  # the alert period
UP_START, UP_END = T0, T0 + 1_000.0  # the uptime period

# (id, station, kind, opened after T0, acknowledged after opening, resolved after opening,
#  outcome); None: not (yet). Every time is a multiple of a microsecond.
ALERTS = [
    ("a1", "st-1", "fall", 100.0, 30.0, 600.0, "real_emergency"),
    ("a2", "st-1", "sos", 200.0, 60.0, 300.0, "false_alarm"),
    ("a3", "st-1", "fall", 300.0, 90.0, 900.0, "false_alarm"),
    ("a4", "st-1", "vitals", 400.0, None, 50.0, "self_cleared"),
    ("a5", "st-1", "sos", -100.0, 5.0, 10.0, "false_alarm"),  # before the period
    ("b1", "st-2", "sos", 1_000.0, 120.0, None, None),  # acknowledged, not resolved
    ("b2", "st-2", "device_offline", 2_000.0, None, None, None),  # still open
    ("c1", "st-3", "fall", 500.0, 10.0, 20.0, "test"),
    ("c2", "st-3", "fall", 10 * DAY, 1.0, 2.0, "false_alarm"),  # at the end: not in it
]

# device -> resident; (device, online, seconds after T0)
DEVICES = {"w-1": "r-1", "w-2": "r-1", "w-3": "r-2", "w-4": "r-3"}
STATUS = [
    ("w-1", True, -500.0), ("w-1", False, 200.0), ("w-1", True, 700.0),  # on 200 + 300 of 1000
    ("w-2", True, 400.0), ("w-2", False, 2_000.0),  # known from 400: on 600 of 600
    ("w-3", True, -1_000.0), ("w-3", False, -100.0),  # off all 1000
    ("w-4", True, -50.0),  # st-3: on 1000 of 1000
]  # fmt: skip


def populate(store: Store) -> None:
    store.add_city(City("sh", "上海市"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_district(District("xh", "sh", "徐汇区"))
    store.add_station(Station("st-1", "pd", "花木街道养老服务站", timezone="Asia/Shanghai"))
    store.add_station(Station("st-2", "pd", "金杨养老服务站"))
    store.add_station(Station("st-3", "xh", "徐家汇养老服务站"))
    for rid, sid in (("r-1", "st-1"), ("r-2", "st-2"), ("r-3", "st-3")):
        store.add_resident(Resident(rid, sid, f"居民{rid}"))
    for did, rid in DEVICES.items():
        store.add_device(Device(did, "wearable", resident_id=rid, created_at=T0 - DAY))
    rows = []
    for aid, sid, kind, opened, ack, res, outcome in ALERTS:
        a = st.new_alert(aid, st.spec_for(kind), subject=f"{aid}-subject", kind=kind,
                         priority="high", at=T0 + opened, station_id=sid)  # fmt: skip
        if ack is not None:
            a = st.acknowledge(a, "nurse", T0 + opened + ack)
        if outcome == "self_cleared":
            a = st.condition_cleared(a, {"en": "ok"}, T0 + opened + (res or 0.0))
        elif outcome is not None:
            a = st.resolve(a, "nurse", outcome, T0 + opened + (res or 0.0))
        rows.append(to_row(a))
    store.write_alert_changes(AlertChanges(alerts=rows))
    store.write_batch(IngestBatch(status=[
        StatusChange(d, online, T0 + at, "birth" if online else "will") for d, online, at in STATUS
    ]))  # fmt: skip
