"""Orders between the store and the pure dispatcher (:mod:`hub.dispatch`): building the
planner's jobs and workers from stored rows, proposing and checking a worker, moving an
order through its lifecycle with its audit step, and the JSON the API and the consoles
show. Synchronous: routes call these from a worker thread.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import asdict, replace
from typing import Any

from dashboard.errors import ApiError
from hub.dispatch.hours import shifts_between
from hub.dispatch.lifecycle import ACTIVE, check_transition
from hub.dispatch.planner import Booking, Job, Params, Proposal, Reason, Worker, fit, plan
from hub.errors import NotFound
from hub.store.base import CareWorker, Order, OrderEvent, OrderStatus, Resident, Store
from hub.timezones import DEFAULT_TIMEZONE

DEFAULT_PARAMS = Params()
HORIZON_S = 86_400.0
"""Bookings and shifts are read this far either side of the order's time."""


def order_id() -> str:
    return f"ord-{uuid.uuid4().hex[:12]}"


def place(resident: Resident) -> tuple[float, float]:
    """The resident's address position; a 422 when it is not known (no dispatch by guess)."""
    if resident.lat is None or resident.lon is None:
        raise ApiError(422, "no_address_position",
                       f"resident {resident.id!r} has no address position (lat, lon)")  # fmt: skip
    return resident.lat, resident.lon


def job_for(store: Store, order: Order, *, emergency_late_s: float) -> Job:
    lat, lon = place(store.get_resident(order.resident_id))
    service = store.get_service(order.service_id)
    late = emergency_late_s if order.kind == "emergency_visit" else 0.0
    return Job(order.id, order.scheduled_at, order.duration_min * 60.0, lat, lon,
               frozenset(service.skills), late)  # fmt: skip


def planner_worker(
    store: Store, w: CareWorker, at: float, *, skip: str = "", until: float | None = None
) -> Worker:
    """``w`` as the planner sees it from time ``at`` (to ``until``, default ``at``), a day
    either side: shifts from the weekly hours in the station's zone, bookings from the
    orders that hold their time (but ``skip``)."""
    zone = store.get_station(w.station_id).timezone or DEFAULT_TIMEZONE
    end = (at if until is None else until) + HORIZON_S
    shifts = tuple(shifts_between(w.hours, zone, at - HORIZON_S, end))
    held = store.list_orders(worker_id=w.id, statuses=sorted(ACTIVE),
                             since=at - HORIZON_S, until=end)  # fmt: skip
    bookings = []
    for o in held:
        if o.id == skip:
            continue
        r = store.get_resident(o.resident_id)
        if r.lat is None or r.lon is None:
            continue  # cannot happen for a dispatched order; never place it by guess
        start = o.scheduled_at
        bookings.append(Booking(start, start + o.duration_min * 60.0, r.lat, r.lon, o.id))
    bookings.sort(key=lambda b: b.start)
    return Worker(w.id, w.lat, w.lon, frozenset(w.skills), shifts, bookings)


def propose(
    store: Store,
    order: Order,
    *,
    now: float,
    emergency_late_s: float,
    params: Params = DEFAULT_PARAMS,
) -> Proposal | None:
    """The best worker of the order's station for it, or None (nobody eligible)."""
    job = job_for(store, order, emergency_late_s=emergency_late_s)
    workers = [
        planner_worker(store, w, order.scheduled_at, skip=order.id)
        for w in store.list_workers(order.station_id)
        if w.active
    ]
    return plan([job], workers, now=now, params=params)[order.id]


def propose_all(
    store: Store, station_id: str, *, now: float, emergency_late_s: float
) -> dict[str, Proposal | None]:
    """A proposal for every open order of the station from a day ago on, planned as one
    batch (:func:`hub.dispatch.planner.plan`): no worker is proposed twice for the same
    time. Orders whose resident has no address position are left out."""
    orders = store.list_orders(station_ids=[station_id], statuses=["open"],
                               since=now - HORIZON_S)  # fmt: skip
    jobs = []
    for o in orders:
        with contextlib.suppress(ApiError):
            jobs.append(job_for(store, o, emergency_late_s=emergency_late_s))
    if not jobs:
        return {}
    first, last = min(j.start for j in jobs), max(j.start for j in jobs)
    workers = [planner_worker(store, w, first, until=last)
               for w in store.list_workers(station_id) if w.active]  # fmt: skip
    return plan(jobs, workers, now=now)


def check(
    store: Store, order: Order, worker: CareWorker, *, now: float, emergency_late_s: float
) -> Proposal | Reason:
    """Could ``worker`` take ``order``? (an override is checked with the same rule)"""
    job = job_for(store, order, emergency_late_s=emergency_late_s)
    return fit(job, planner_worker(store, worker, order.scheduled_at, skip=order.id), now=now)


def move(
    store: Store, order: Order, to: OrderStatus, *, actor: str, at: float,
    worker_id: str | None = None, notes: str | None = None,
    position: tuple[float, float] | None = None, detail: dict[str, Any] | None = None,
) -> Order:  # fmt: skip
    """Move ``order`` to ``to`` (checked by the lifecycle), with its audit step; a
    concurrent change since ``order`` was read is a 409 (the store's compare-and-set)."""
    check_transition(order.status, to)
    changed = replace(
        order, status=to, updated_at=at,
        worker_id=worker_id if worker_id is not None else order.worker_id,
        notes=notes if notes is not None else order.notes,
    )  # fmt: skip
    lat, lon = position if position else (None, None)
    event = OrderEvent(order.id, at, actor, to, order.status, changed.worker_id, lat, lon,
                       detail or {})  # fmt: skip
    store.change_order(changed, order.status, event)
    return changed


def order_json(store: Store, order: Order) -> dict[str, Any]:
    """An order with what a screen shows next to it: resident, address, service, worker."""
    out = asdict(order)
    try:
        r = store.get_resident(order.resident_id)
        out["resident"] = {"id": r.id, "name": r.name, "address": r.address,
                           "lat": r.lat, "lon": r.lon}  # fmt: skip
    except NotFound:
        out["resident"] = None
    try:
        out["service_name"] = store.get_service(order.service_id).name
    except NotFound:
        out["service_name"] = None
    out["worker_name"] = None
    if order.worker_id:
        with contextlib.suppress(NotFound):
            out["worker_name"] = store.get_worker(order.worker_id).name
    return out


def proposal_json(store: Store, p: Proposal | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return asdict(p) | {"worker_name": store.get_worker(p.worker_id).name}
