"""The registry's records and its part of the store: the places (city, district, station),
the residents and their contacts, the devices and those seen but not yet provisioned."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

StationKind = Literal["service_station", "day_care", "mutual_aid"]
"""养老服务站 (community elderly-care service station), 日间照料中心 (day-care centre),
农村互助幸福院 (rural mutual-aid home)."""

DistrictKind = Literal["district", "county"]
ResidentStatus = Literal["home", "away", "hospital", "inactive"]


@dataclass(frozen=True, slots=True)
class City:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class District:
    """区 or 县 of a city."""

    id: str
    city_id: str
    name: str
    kind: DistrictKind = "district"


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    district_id: str
    name: str
    kind: StationKind = "service_station"
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    timezone: str | None = None
    """IANA time zone (``Asia/Shanghai``) of quiet hours, night rules and the times in
    messages; None: the hub's ``CAREHUB_DEFAULT_TIMEZONE`` (:mod:`hub.timezones`)."""


@dataclass(frozen=True, slots=True)
class Contact:
    """Someone to tell: a family member, a neighbour, a doctor.

    ``channels`` are apprise URLs (``wecombot://KEY``, ``mailto://...``) or signed webhook
    URLs; ``prefs`` holds notification preferences (min priority, quiet hours, language).
    """

    id: str
    resident_id: str
    name: str
    relation: str | None = None
    phone: str | None = None
    channels: tuple[str, ...] = ()
    prefs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resident:
    id: str
    station_id: str
    name: str
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    birth_year: int | None = None
    status: ResidentStatus = "home"
    clinical: dict[str, Any] = field(default_factory=dict)
    """Clinician settings, e.g. ``{"spo2_scale": 2, "hr_high": 110}`` (NEWS2 SpO2 scale 2
    for hypercapnic respiratory failure)."""


@dataclass(frozen=True, slots=True)
class Device:
    """A provisioned device. Bound to a resident, or to a gateway that speaks for it (a
    sub-device may be both: the gateway carries its messages, the resident owns it)."""

    id: str
    kind: str
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    capabilities: tuple[str, ...] = ()
    resident_id: str | None = None
    gateway_id: str | None = None
    interval_s: float | None = None
    enabled: bool = True
    created_at: float = 0.0
    worn_at: str | None = None
    """Where on the body a wearable is worn (``wrist``, ``waist``, ``chest``, ``neck``), as
    provisioned or declared in its status; picks the fall detector's model."""


@dataclass(frozen=True, slots=True)
class Unprovisioned:
    """A device id seen on the broker that is not in the registry (to claim later)."""

    device_id: str
    first_seen: float
    last_seen: float
    count: int
    last_topic: str
    gateway_id: str | None = None


@runtime_checkable
class RegistryStore(Protocol):
    """The hierarchy of places, residents and contacts, devices."""

    # hierarchy
    def add_city(self, city: City) -> None: ...
    def add_district(self, district: District) -> None: ...
    def add_station(self, station: Station) -> None: ...
    def list_cities(self) -> list[City]: ...
    def list_districts(self, city_id: str | None = None) -> list[District]: ...
    def list_stations(self, district_id: str | None = None) -> list[Station]: ...
    def get_station(self, station_id: str) -> Station:
        """Raises NotFound."""
        ...

    def update_station(self, station: Station) -> None:
        """Replace every field but the id and district; raises NotFound."""
        ...

    # residents and contacts
    def add_resident(self, resident: Resident) -> None: ...
    def update_resident(self, resident: Resident) -> None:
        """Replace every field; raises NotFound."""
        ...

    def get_resident(self, resident_id: str) -> Resident: ...
    def list_residents(self, station_id: str | None = None) -> list[Resident]: ...
    def add_contact(self, contact: Contact) -> None: ...
    def list_contacts(self, resident_id: str) -> list[Contact]: ...

    # devices
    def add_device(self, device: Device, secret_hash: str | None = None) -> None:
        """Raises Conflict when the id exists. Removes it from the unprovisioned list."""
        ...

    def add_devices(self, items: Sequence[tuple[Device, str | None]]) -> None:
        """Add many ``(device, secret_hash)`` in one transaction, all or nothing (bulk
        provisioning): Conflict when any id exists; gateways may precede their sensors in
        ``items``. Removes them from the unprovisioned list."""
        ...

    def device_kinds(self, device_ids: Iterable[str]) -> dict[str, str]:
        """The kind of each of ``device_ids`` that is registered (absent ids are left out):
        one query for a whole import's existence and gateway checks."""
        ...

    def update_device(self, device: Device) -> None:
        """Replace every field except the secret; raises NotFound."""
        ...

    def get_device(self, device_id: str) -> Device: ...
    def list_devices(
        self, *, resident_id: str | None = None, gateway_id: str | None = None
    ) -> list[Device]: ...
    def set_device_secret(self, device_id: str, secret_hash: str) -> None: ...
    def get_device_secret(self, device_id: str) -> str | None: ...
    def list_unprovisioned(self) -> list[Unprovisioned]: ...
