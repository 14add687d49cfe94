"""Store queries with the caller's scope applied (synchronous: run in a worker thread).

Lists are asked of the store per visible station (or per linked resident for families),
never fetched whole and filtered afterwards, except for vendors, whose devices the store
cannot yet select by vendor. Single objects fetched by id are checked against the scope
and reported as *not found* when invisible, so an id from another station reveals nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from alerts.state import PRIVATE_FIELDS, RANK
from dashboard.scope import Scope
from hub.errors import NotFound
from hub.store.base import AlertRow, Device, Resident, Station, Store

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    limit: int
    offset: int
    next_offset: int | None

    @classmethod
    def of(cls, rows: Sequence[T], limit: int, offset: int) -> Page:
        """``rows`` holds everything up to ``offset + limit + 1`` (the +1 says "more")."""
        items = list(rows[offset : offset + limit])
        more = len(rows) > offset + limit
        return cls(items, limit, offset, offset + limit if more else None)


def stations(store: Store, scope: Scope, district_id: str | None = None) -> list[Station]:
    if scope.station_ids is None:
        return store.list_stations(district_id)
    return [
        s for s in store.list_stations(district_id) if s.id in scope.station_ids
        and scope.role != "vendor"
    ]  # fmt: skip


def station(store: Store, scope: Scope, station_id: str) -> Station:
    if not scope.sees_station(station_id):
        raise NotFound(f"station {station_id!r}")
    return store.get_station(station_id)


def _station_ids(scope: Scope, station_id: str | None) -> Sequence[str | None]:
    """The station filters to ask the store with (None: no filter)."""
    if station_id is not None:
        return [station_id] if scope.sees_station(station_id) else []
    if scope.station_ids is None:
        return [None]
    return sorted(scope.station_ids)


def residents(store: Store, scope: Scope, station_id: str | None = None) -> list[Resident]:
    if scope.role == "vendor":
        return []
    if scope.resident_ids is not None:
        found = []
        for rid in sorted(scope.resident_ids):
            try:
                r = store.get_resident(rid)
            except NotFound:
                continue
            if station_id is None or r.station_id == station_id:
                found.append(r)
        return found
    out: list[Resident] = []
    for sid in _station_ids(scope, station_id):
        out += store.list_residents(sid)
    return out


def resident(store: Store, scope: Scope, resident_id: str) -> Resident:
    r = store.get_resident(resident_id)
    if not scope.sees_resident(r.id, r.station_id):
        raise NotFound(f"resident {resident_id!r}")
    return r


def alerts(
    store: Store, scope: Scope, *, station_id: str | None = None, resident_id: str | None = None,
    states: Sequence[str] | None = None, priority: str | None = None,
    category: str | None = None, kind: str | None = None, limit: int = 100,
) -> list[AlertRow]:  # fmt: skip
    """Newest first, at most ``limit``."""
    filters: dict[str, Any] = {
        "states": states, "priority": priority, "category": category, "kind": kind,
        "limit": limit,
    }  # fmt: skip
    rows: list[AlertRow] = []
    if scope.role == "vendor":
        return []
    if resident_id is not None:
        r = resident(store, scope, resident_id)
        rows = store.list_alerts(resident_id=r.id, **filters)
    elif scope.resident_ids is not None:
        for rid in sorted(scope.resident_ids):
            rows += store.list_alerts(resident_id=rid, **filters)
    else:
        for sid in _station_ids(scope, station_id):
            rows += store.list_alerts(station_id=sid, **filters)
    visible = [a for a in rows if scope.sees_alert(a.station_id, a.resident_id, a.category)]
    visible.sort(key=lambda a: (-a.opened_at, a.id))
    return visible[:limit]


def alert(store: Store, scope: Scope, alert_id: str) -> AlertRow:
    a = store.get_alert(alert_id)
    if not scope.sees_alert(a.station_id, a.resident_id, a.category):
        raise NotFound(f"alert {alert_id!r}")
    return a


def by_priority(rows: Iterable[AlertRow]) -> list[AlertRow]:
    """The console's order: highest priority first, then the oldest first."""
    return sorted(rows, key=lambda a: (-RANK.get(a.priority, 0), a.opened_at, a.id))


def alert_json(row: AlertRow) -> dict[str, Any]:
    return {k: v for k, v in row.data.items() if k not in PRIVATE_FIELDS}


def device_station(store: Store, device: Device) -> str | None:
    """The station of a device: its resident's, else its gateway's resident's."""
    for _ in range(3):  # a gateway chain is at most one level deep; stay bounded anyway
        if device.resident_id is not None:
            try:
                return store.get_resident(device.resident_id).station_id
            except NotFound:
                return None
        if device.gateway_id is None:
            return None
        try:
            device = store.get_device(device.gateway_id)
        except NotFound:
            return None
    return None


def devices(
    store: Store, scope: Scope, *, station_id: str | None = None, resident_id: str | None = None
) -> list[Device]:
    if scope.role == "vendor":
        return [d for d in store.list_devices() if scope.sees_device(d, None)]
    if scope.resident_ids is not None:
        return []
    if resident_id is not None:
        r = resident(store, scope, resident_id)
        return store.list_devices(resident_id=r.id)
    if scope.everything and station_id is None:
        return store.list_devices()
    out: list[Device] = []
    seen: set[str] = set()
    for r in residents(store, scope, station_id):
        for d in store.list_devices(resident_id=r.id):
            for dev in [d, *store.list_devices(gateway_id=d.id)]:
                if dev.id not in seen:
                    seen.add(dev.id)
                    out.append(dev)
    return out


def device(store: Store, scope: Scope, device_id: str) -> Device:
    d = store.get_device(device_id)
    if not scope.sees_device(d, device_station(store, d)):
        raise NotFound(f"device {device_id!r}")
    return d
