"""Roles and scoping: what a user may do, and which stations, residents and devices they see.

Roles, from the city down (``UserRow.role`` and what ``scope_id`` names):

============================  ===========  ==============================================
role                          scope_id     sees
============================  ===========  ==============================================
``city_admin``                city or None every station of the city (None: every city)
``district_admin``            district     the stations of the district
``station_supervisor``        station      that station; manages its staff and families
``station_staff``             station      that station's residents, alerts and devices
``family``                    None         only the residents linked to the user
``vendor``                    vendor name  only its devices' health and refusals
============================  ===========  ==============================================

The scope is applied **in the queries** (:mod:`dashboard.queries` asks the store per
visible station or resident), and checked again on every single object fetched by id, so
a crafted id never leaks another station's resident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hub.errors import NotFound
from hub.store.base import Device, Resident, Role, Store, UserRow

ADMINS: Final = frozenset({"city_admin", "district_admin"})
STATION_ROLES: Final = frozenset({"station_supervisor", "station_staff"})
CARE: Final = ADMINS | STATION_ROLES

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "stations.read": CARE | {"family"},
    "stations.write": ADMINS,
    "policies.read": CARE,
    "policies.write": ADMINS | {"station_supervisor"},
    "residents.read": CARE | {"family"},
    "residents.write": ADMINS | {"station_supervisor"},
    "vitals.read": CARE | {"family"},
    "devices.read": CARE | {"vendor"},
    "devices.write": ADMINS | {"station_supervisor"},
    "refusals.read": ADMINS | {"station_supervisor", "vendor"},
    "alerts.read": CARE | {"family"},
    "alerts.act": CARE,
    "alerts.comment": CARE | {"family"},
    "alerts.going": frozenset({"family"}),
    "silences.read": CARE,
    "silences.write": ADMINS | {"station_supervisor"},
    "users.read": ADMINS | {"station_supervisor"},
    "users.write": ADMINS | {"station_supervisor"},
    "services.read": CARE,
    "services.write": ADMINS | {"station_supervisor"},
    "workers.read": CARE,
    "workers.write": ADMINS | {"station_supervisor"},
    "workers.self": STATION_ROLES,
    "orders.read": CARE,
    "orders.write": CARE,
    "orders.work": STATION_ROLES,
    "visits.read": CARE | {"family"},
    "visits.record": CARE,
    "visits.plan": ADMINS | {"station_supervisor"},
    "ratings.read": CARE | {"family"},
    "ratings.write": frozenset({"family"}),
    "reports.read": CARE,
    "fhir.read": CARE,
}
"""Action → roles allowed. Every route names one action (see the authorization matrix)."""

MANAGES: Final[dict[str, frozenset[str]]] = {
    "city_admin": frozenset(PERMISSIONS["stations.read"] | {"vendor"}),
    "district_admin": frozenset({"station_supervisor", "station_staff", "family"}),
    "station_supervisor": frozenset({"station_staff", "family"}),
}
"""Which roles each role may create and edit (inside its own scope)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """What one user may see. ``station_ids`` None means every station (a city admin
    without a city); ``resident_ids`` None means every resident of the visible stations."""

    user_id: str
    role: Role
    station_ids: frozenset[str] | None
    resident_ids: frozenset[str] | None = None
    vendor: str | None = None

    def can(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]

    @property
    def everything(self) -> bool:
        return self.station_ids is None and self.resident_ids is None and self.vendor is None

    def sees_station(self, station_id: str | None) -> bool:
        if self.everything:
            return True
        if station_id is None or self.station_ids is None:
            return False
        return station_id in self.station_ids and self.role != "vendor"

    def sees_resident(self, resident_id: str | None, station_id: str | None) -> bool:
        if self.everything:
            return True
        if self.role == "vendor" or resident_id is None:
            return False
        if self.resident_ids is not None:
            return resident_id in self.resident_ids
        return self.sees_station(station_id)

    def sees_alert(self, station_id: str | None, resident_id: str | None, category: str) -> bool:
        """Families see their elder's clinical alerts, not device housekeeping."""
        if self.resident_ids is not None:
            return category == "clinical" and self.sees_resident(resident_id, station_id)
        return self.sees_station(station_id)

    def sees_device(self, device: Device, station_id: str | None) -> bool:
        """``station_id``: the station of the device's resident (or its gateway's)."""
        if self.everything:
            return True
        if self.role == "vendor":
            return self.vendor is not None and device.vendor == self.vendor
        if self.resident_ids is not None:
            return False  # families see status through the resident, not the device list
        return self.sees_station(station_id)


def scope_for(store: Store, user: UserRow) -> Scope:
    """Build a user's scope from the registry (synchronous: call from a worker thread)."""
    role = user.role
    if role == "city_admin":
        if user.scope_id is None:
            return Scope(user.id, role, None)
        districts = {d.id for d in store.list_districts(user.scope_id)}
        ids = {s.id for s in store.list_stations() if s.district_id in districts}
        return Scope(user.id, role, frozenset(ids))
    if role == "district_admin":
        ids = {s.id for s in store.list_stations(user.scope_id)} if user.scope_id else set()
        return Scope(user.id, role, frozenset(ids))
    if role in STATION_ROLES:
        return Scope(user.id, role, frozenset({user.scope_id} if user.scope_id else ()))
    if role == "family":
        stations: set[str] = set()
        for rid in user.resident_ids:
            try:
                stations.add(store.get_resident(rid).station_id)
            except NotFound:  # a removed resident is simply not visible
                continue
        return Scope(user.id, role, frozenset(stations), frozenset(user.resident_ids))
    return Scope(user.id, role, frozenset(), vendor=user.scope_id or "")


def may_manage(scope: Scope, store: Store, target: UserRow) -> bool:
    """May ``scope``'s user create or edit ``target`` (role and scope inside its own)?"""
    if target.role not in MANAGES.get(scope.role, frozenset()):
        return False
    if scope.everything:
        return True
    if target.role in STATION_ROLES:
        return scope.sees_station(target.scope_id)
    if target.role == "family":
        return bool(target.resident_ids) and all(
            _resident_visible(scope, store, rid) for rid in target.resident_ids
        )
    if target.role == "district_admin":
        stations = store.list_stations(target.scope_id) if target.scope_id else []
        return scope.role == "city_admin" and any(scope.sees_station(s.id) for s in stations)
    return False  # city admins and vendors are managed by an unscoped city admin only


def _resident_visible(scope: Scope, store: Store, resident_id: str) -> bool:
    try:
        r: Resident = store.get_resident(resident_id)
    except NotFound:
        return False
    return scope.sees_resident(r.id, r.station_id)
