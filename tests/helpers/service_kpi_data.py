"""A small, hand-counted data set of the service KPIs on top of tests/helpers/kpi_data.py:
emergency visits after its alerts and meal deliveries (with their audit steps), visit tasks
and ratings. The expected figures are written out in tests/hub/kpi/test_service_kpi_store.py,
worked out by hand from the comments here."""

from __future__ import annotations

from dataclasses import replace

from hub.store.base import (
    Order,
    OrderEvent,
    OrderStatus,
    RatingRow,
    Service,
    Store,
    VisitRecord,
    VisitTask,
)
from tests.helpers import kpi_data as k

T0, DAY = k.T0, k.DAY
RESIDENT = {"st-1": "r-1", "st-2": "r-2", "st-3": "r-3"}
GRACE = 1_800.0

# emergency visits (45 min): alert -> (seconds after the alert's opening it was checked in
# at, and done at); None: not (yet). The order starts when the alert opened, so it is due
# 45 + 30 = 75 min (4,500 s) after the opening.
EMERGENCY = {
    "a1": (600.0, 2_400.0),  # st-1: arrives 600; done in time
    "a2": (1_200.0, 4_800.0),  # st-1: arrives 1,200; done late
    "a3": (None, None),  # st-1: never arrived, not done: late
    "a5": (300.0, 900.0),  # st-1: its alert opened before the period (no arrival figure),
    # but the order falls due in it (T0 + 4,400): done in time
    "b1": (900.0, 3_600.0),  # st-2: arrives 900; done in time
    "c1": (1_800.0, None),  # st-3: arrives 1,800; not done: late
}
# meal deliveries (30 min, due 3,600 s after the start): (id, station, start after T0,
# done after the start or None, cancelled)
MEALS = [
    ("m1", "st-1", DAY, 3_600.0, False),  # done exactly at its deadline: in time
    ("m2", "st-1", DAY, None, True),  # cancelled: not counted
    ("m3", "st-2", 10 * DAY - 3_600.0, 600.0, False),  # due at the period's end: next one's
    ("m4", "st-2", -3_000.0, 4_000.0, False),  # started before, due T0 + 600: done T0 + 1,000
    ("m5", "st-3", 2 * DAY, 3_601.0, False),  # a second late
]

# visit tasks: (id, station, window closes after T0, recorded after T0 or None)
VISITS = [
    ("v1", "st-1", 2 * DAY, DAY),  # on schedule
    ("v2", "st-1", 3 * DAY, 3 * DAY + 60.0),  # recorded a minute late
    ("v3", "st-1", 4 * DAY, None),  # never recorded
    ("v4", "st-1", 12 * DAY, DAY),  # closes after the period: not counted
    ("v5", "st-2", 0.0, -10.0),  # closes at the period's start: counted, on schedule
    ("v6", "st-3", -1.0, None),  # closed before the period
    ("v7", "st-3", 5 * DAY, 5 * DAY),  # recorded the moment it became overdue: late
]

# ratings: (subject kind, id, station, score, first given after T0)
RATINGS = [
    ("visit", "v1", "st-1", 5, DAY),
    ("order", "m1", "st-1", 4, DAY + 3_600.0),
    ("order", "a1", "st-1", 2, 2 * DAY),
    ("order", "b1", "st-2", 3, -60.0),  # before the period
    ("visit", "v5", "st-2", 4, 10 * DAY),  # at its end: the next period's
    ("order", "m4", "st-2", 1, 3 * DAY),
    ("visit", "v7", "st-3", 5, 6 * DAY),
]


def _walk(store: Store, o: Order, steps: list[tuple[OrderStatus, float]]) -> None:
    """Store the order open, then move it through ``steps`` (status, time) one by one."""
    store.add_order(o, OrderEvent(o.id, o.created_at, "system", "open"))
    for status, at in steps:
        moved = replace(o, status=status, updated_at=at)
        store.change_order(moved, o.status, OrderEvent(o.id, at, "user:w", status, o.status))
        o = moved


Steps = list[tuple[OrderStatus, float]]


def _steps(start: float, arrive: float | None, done: float | None) -> Steps:
    steps: Steps = [("assigned", start + 10.0), ("accepted", start + 20.0)]
    if arrive is not None:
        steps.append(("arrived", start + arrive))
    if done is not None:
        steps.append(("done", start + done))
    return steps


def populate(store: Store) -> None:
    """Call after :func:`tests.helpers.kpi_data.populate`."""
    for sid in RESIDENT:
        store.add_service(Service(f"sv-e-{sid}", sid, "emergency_visit", "紧急上门", 45, 0))
        store.add_service(Service(f"sv-m-{sid}", sid, "meal_delivery", "送餐", 30, 1500))
    opened = {aid: (sid, at) for aid, sid, _, at, *_ in k.ALERTS}
    for aid, (arrive, done) in EMERGENCY.items():
        sid, at = opened[aid]
        start = T0 + at
        o = Order(f"o-{aid}", sid, RESIDENT[sid], f"sv-e-{sid}", "emergency_visit", start, 45,
                  "open", 0, 0, "user:staff", start, start, alert_id=aid)  # fmt: skip
        _walk(store, o, _steps(start, arrive, done))
    for oid, sid, after, done, cancelled in MEALS:
        start = T0 + after
        o = Order(oid, sid, RESIDENT[sid], f"sv-m-{sid}", "meal_delivery", start, 30, "open",
                  1500, 0, "user:staff", start - DAY, start - DAY)  # fmt: skip
        if cancelled:
            _walk(store, o, [("cancelled", start - 100.0)])
        else:
            _walk(store, o, _steps(start - 600.0, 600.0, None if done is None else 600.0 + done))
    store.add_visit_tasks([
        VisitTask(tid, RESIDENT[sid], sid, "visit", "plan", "2026-01-01", 1, T0 + closes, T0 - DAY)
        for tid, sid, closes, _ in VISITS
    ])  # fmt: skip
    for tid, _, _, recorded in VISITS:
        if recorded is not None:
            at = T0 + recorded
            store.record_visit(VisitRecord(tid, "", "", "user:staff", at, at, "good",
                                           "walks_alone", "good"))  # fmt: skip
    for kind, sid_, station, score, at in RATINGS:
        store.put_rating(RatingRow(kind, sid_, "family", RESIDENT[station], station, score,  # type: ignore[arg-type]
                                   "", T0 + at, T0 + at))  # fmt: skip
