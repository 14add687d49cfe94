"""Registry operations on top of the store: provisioning with one-time credentials, and
CSV import of a station's residents and devices.

A device's MQTT username is its id; its password is generated here, shown once and kept
only as an argon2id hash (the broker's auth plugin or the dynamic-security sync verifies
against it). Given a :class:`BrokerAccounts` (``hub.broker.admin.SyncBrokerAdmin``), the
same operations create or update the device's account on the broker, and the registry is
changed only when the broker has accepted it: a printed password always works there.

**Hash parameters.** A device secret is 24 random bytes from :mod:`secrets` (192 bits),
never chosen by a person. The cost parameters of a password hash exist to slow down
guessing a low-entropy secret; against 192 random bits guessing is hopeless at any cost
(2^191 trials on average), so here they only set what every verification costs the
verifier. The secrets are therefore hashed with argon2id at its lightest sound setting
(:data:`DEVICE_SECRET_HASHER`: one pass over 64 KiB, one lane; about 0.05 ms), not with
argon2-cffi's defaults for human passwords (three passes over 64 MiB, four lanes; about
160 ms here), which the dashboard keeps for its users' passwords. NIST SP 800-63B
(revision 3, section 5.1.2.2, look-up secrets) likewise asks for a salted key-derivation function
only below 112 bits of entropy. The hash keeps argon2's PHC format, with its parameters
inside, so a verifier reads them from the hash, and hashes made with the former defaults
still verify. The lighter setting is what lets 100,000 devices be provisioned in well
under a minute (``bench/provision.py``, ``provision_100k_s``; at the defaults the hashing
alone would take over four hours here) and keeps a broker's auth plugin from spending some 27
CPU-minutes on a reconnect storm of 10,000 devices after a restart.

Imports are all or nothing: every row is checked first (existence and gateway kinds in one
query), then every device is written in one transaction (``Store.add_devices``, COPY on
PostgreSQL).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.contract.models import DeviceKind, WornAt
from hub.contract.topics import DEVICE_ID_RE
from hub.errors import CarehubError, Conflict, NotFound, RegistryError
from hub.store.base import Contact, Device, Resident, Store

DEVICE_SECRET_BYTES = 24
"""Random bytes in a device secret (192 bits; URL-safe base64, 32 characters)."""
DEVICE_SECRET_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
"""argon2id for machine-generated device secrets: see the module docstring for why."""
KINDS = frozenset(k.value for k in DeviceKind)
WORN_AT = frozenset(w.value for w in WornAt)


@dataclass(frozen=True, slots=True)
class Credentials:
    """MQTT credentials of a device; the password exists only in this object."""

    device_id: str
    username: str
    password: str


def check_id(value: str, what: str = "id") -> str:
    """Ids follow the device-id rule: letters, digits, ``_ . : -``, at most 64."""
    if not DEVICE_ID_RE.match(value):
        raise RegistryError(f"invalid {what} {value!r}: use letters, digits, _ . : - (max 64)")
    return value


def check_worn_at(value: str | None) -> str | None:
    """A body position of the device contract (:class:`hub.contract.models.WornAt`) or None."""
    if value is not None and value not in WORN_AT:
        raise RegistryError(f"unknown body position {value!r}; one of {sorted(WORN_AT)}")
    return value


class BrokerAccounts(Protocol):
    """Device accounts on the broker (implemented by ``hub.broker.admin.SyncBrokerAdmin``)."""

    def add_devices(self, items: Sequence[tuple[Device, str]]) -> list[bool]:
        """Create or update accounts, all or nothing; per device: was it created?"""
        ...

    def set_password(self, device: Device, password: str) -> None: ...

    def remove_devices(self, device_ids: Sequence[str]) -> None: ...


def provision_device(
    store: Store, device: Device, broker: BrokerAccounts | None = None
) -> Credentials:
    """Register ``device`` with a fresh secret; return the credentials (shown once).

    With ``broker`` the device's broker account is created first; when the broker refuses,
    nothing is registered.
    """
    check_id(device.id, "device id")
    if device.kind not in KINDS:
        raise RegistryError(f"unknown device kind {device.kind!r}; one of {sorted(KINDS)}")
    check_worn_at(device.worn_at)
    if device.resident_id is not None:
        store.get_resident(device.resident_id)  # NotFound when wrong
    if device.gateway_id is not None:
        gateway = store.get_device(device.gateway_id)
        if gateway.kind != DeviceKind.GATEWAY:
            raise RegistryError(f"{device.gateway_id} is a {gateway.kind}, not a gateway")
    if broker is not None and _exists(store.get_device, device.id):
        # checked before the broker is touched: its account belongs to the registered device
        raise Conflict(f"device {device.id} already exists")
    return _provision(store, [device], broker)[0]


def _provision(
    store: Store, devices: Sequence[Device], broker: BrokerAccounts | None
) -> list[Credentials]:
    """Broker accounts first (all or nothing), then the registry in one transaction (all
    or nothing); a failing registry write deletes the broker accounts it created."""
    creds = [Credentials(d.id, d.id, new_secret()) for d in devices]
    hashes = [hash_secret(c.password) for c in creds]
    created = [False] * len(devices)
    if broker is not None:
        created = broker.add_devices([(d, c.password) for d, c in zip(devices, creds, strict=True)])
    try:
        store.add_devices(list(zip(devices, hashes, strict=True)))
    except CarehubError:
        undo = [d.id for d, new in zip(devices, created, strict=True) if new]
        if broker is not None and undo:
            with contextlib.suppress(CarehubError):
                broker.remove_devices(undo)
        raise
    return creds


def new_secret() -> str:
    """A fresh device secret: :data:`DEVICE_SECRET_BYTES` random bytes, URL-safe text."""
    return secrets.token_urlsafe(DEVICE_SECRET_BYTES)


def hash_secret(secret: str) -> str:
    """The argon2id hash kept for a device secret (PHC string, parameters inside).

    >>> hash_secret("x" * 32).startswith("$argon2id$v=19$m=64,t=1,p=1$")
    True
    """
    return DEVICE_SECRET_HASHER.hash(secret)


def rotate_secret(
    store: Store, device_id: str, broker: BrokerAccounts | None = None
) -> Credentials:
    """Give a device a new secret; the old one stops working.

    With ``broker`` the broker gets the new password too (a device without a broker account
    gets one); when the broker refuses, the old secret is put back in the registry.
    """
    device = store.get_device(device_id)
    password = new_secret()
    old_hash = store.get_device_secret(device_id)
    store.set_device_secret(device_id, hash_secret(password))
    if broker is not None:
        try:
            broker.set_password(device, password)
        except CarehubError:
            if old_hash is not None:
                store.set_device_secret(device_id, old_hash)
            raise
    return Credentials(device_id, device_id, password)


def verify_secret(store: Store, device_id: str, password: str) -> bool:
    """True when ``password`` is the device's current secret (whatever argon2 parameters
    its hash was made with: they are read from the hash)."""
    stored = store.get_device_secret(device_id)
    if stored is None:
        return False
    try:
        return DEVICE_SECRET_HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def contact_prefs(
    *, min_priority: str = "medium", quiet_hours: str | None = None, language: str = "zh-CN"
) -> dict[str, Any]:
    """Validated notification preferences of a contact.

    >>> contact_prefs(quiet_hours="22:00-07:00")["quiet_hours"]
    '22:00-07:00'
    """
    if min_priority not in ("high", "medium", "low"):
        raise RegistryError("min_priority is high, medium or low")
    if language not in ("zh-CN", "en"):
        raise RegistryError("language is zh-CN or en")
    prefs: dict[str, Any] = {"min_priority": min_priority, "language": language}
    if quiet_hours:
        if not _QUIET_RE.match(quiet_hours):
            raise RegistryError(f"quiet hours {quiet_hours!r}: use HH:MM-HH:MM, e.g. 22:00-07:00")
        prefs["quiet_hours"] = quiet_hours
    return prefs


_QUIET_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


# --- CSV import --------------------------------------------------------------------------

RESIDENT_COLUMNS = ("id", "name")
RESIDENT_OPTIONAL = (
    "address", "lat", "lon", "birth_year", "status", "spo2_scale",
    "contact_name", "contact_relation", "contact_phone", "contact_channels",
)  # fmt: skip
DEVICE_COLUMNS = ("id", "kind")
DEVICE_OPTIONAL = (
    "vendor", "model", "firmware", "resident_id", "gateway_id", "interval_s", "worn_at",
)  # fmt: skip


def import_residents(store: Store, station_id: str, text: str) -> list[Resident]:
    """Import residents (and their first contact) from CSV text into ``station_id``.

    Every row is checked before anything is written: one bad row refuses the whole file,
    with every problem listed by line, so a half-imported station never happens.
    """
    store.get_station(station_id)
    rows = _read_csv(text, RESIDENT_COLUMNS, RESIDENT_OPTIONAL)
    problems: list[str] = []
    residents: list[tuple[Resident, Contact | None]] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            resident, contact = _resident_from(row, station_id)
            if resident.id in seen:
                raise RegistryError(f"resident {resident.id} appears twice")
            if _exists(store.get_resident, resident.id):
                raise RegistryError(f"resident {resident.id} already exists")
            seen.add(resident.id)
            residents.append((resident, contact))
        except (RegistryError, ValueError) as exc:
            problems.append(f"line {line}: {exc}")
    _raise_problems(problems)
    for resident, contact in residents:
        store.add_resident(resident)
        if contact is not None:
            store.add_contact(contact)
    return [r for r, _ in residents]


def import_devices(
    store: Store, station_id: str, text: str, broker: BrokerAccounts | None = None
) -> list[Credentials]:
    """Provision devices from CSV text; gateways in the file may be referenced by later
    rows. Residents must belong to ``station_id``. All rows are checked first; with
    ``broker``, every broker account is created before anything is registered."""
    store.get_station(station_id)
    rows = _read_csv(text, DEVICE_COLUMNS, DEVICE_OPTIONAL)
    residents = {r.id for r in store.list_residents(station_id)}
    gateways_in_file = {row["id"] for _, row in rows if row.get("kind") == DeviceKind.GATEWAY}
    # one query for every id the checks need: the file's own and the gateways it names
    registered = store.device_kinds(
        {row["id"] for _, row in rows if "id" in row}
        | {row["gateway_id"] for _, row in rows if "gateway_id" in row}
    )
    problems: list[str] = []
    devices: list[Device] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            device = _device_from(row)
            if device.id in seen or device.id in registered:
                raise RegistryError(f"device {device.id} already exists")
            if device.resident_id is not None and device.resident_id not in residents:
                raise RegistryError(f"resident {device.resident_id} is not in {station_id}")
            gw = device.gateway_id
            if gw is not None and gw not in gateways_in_file:
                if gw not in registered:
                    raise RegistryError(f"gateway {gw} does not exist")
                if registered[gw] != DeviceKind.GATEWAY:
                    raise RegistryError(f"{gw} is not a gateway")
            seen.add(device.id)
            devices.append(device)
        except (RegistryError, ValueError) as exc:
            problems.append(f"line {line}: {exc}")
    _raise_problems(problems)
    # gateways first, so sub-devices can reference them
    devices.sort(key=lambda d: d.kind != DeviceKind.GATEWAY)
    return _provision(store, devices, broker)


def credentials_csv(creds: Iterable[Credentials]) -> str:
    """Credentials as CSV (device_id, username, password), for a vendor's flashing tool."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["device_id", "username", "password"])
    for c in creds:
        writer.writerow([c.device_id, c.username, c.password])
    return out.getvalue()


def _read_csv(
    text: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))  # Excel writes a BOM
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in required + optional]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing columns {missing}")
        if unknown:
            parts.append(f"unknown columns {unknown}")
        raise RegistryError(f"{'; '.join(parts)}; expected {list(required + optional)}")
    rows = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        if any(clean.values()):
            rows.append((reader.line_num, {k: v for k, v in clean.items() if v}))
    if not rows:
        raise RegistryError("the file has no rows")
    return rows


def _resident_from(row: dict[str, str], station_id: str) -> tuple[Resident, Contact | None]:
    rid = check_id(row["id"], "resident id")
    clinical: dict[str, Any] = {}
    if "spo2_scale" in row:
        scale = int(row["spo2_scale"])
        if scale not in (1, 2):
            raise RegistryError("spo2_scale must be 1 or 2")
        clinical["spo2_scale"] = scale
    status = row.get("status", "home")
    if status not in ("home", "away", "hospital", "inactive"):
        raise RegistryError(f"status {status!r} is not home, away, hospital or inactive")
    lat = float(row["lat"]) if "lat" in row else None
    lon = float(row["lon"]) if "lon" in row else None
    if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
        raise RegistryError("lat/lon out of range")
    resident = Resident(
        id=rid,
        station_id=station_id,
        name=row["name"],
        address=row.get("address"),
        lat=lat,
        lon=lon,
        birth_year=int(row["birth_year"]) if "birth_year" in row else None,
        status=status,  # type: ignore[arg-type]
        clinical=clinical,
    )
    contact = None
    if "contact_name" in row:
        channels = tuple(c.strip() for c in row.get("contact_channels", "").split(";") if c)
        contact = Contact(
            prefs=contact_prefs(),
            id=f"{rid}-c1",
            resident_id=rid,
            name=row["contact_name"],
            relation=row.get("contact_relation"),
            phone=row.get("contact_phone"),
            channels=channels,
        )
    return resident, contact


def _device_from(row: dict[str, str]) -> Device:
    kind = row["kind"]
    if kind not in KINDS:
        raise RegistryError(f"unknown device kind {kind!r}")
    return Device(
        id=check_id(row["id"], "device id"),
        kind=kind,
        vendor=row.get("vendor"),
        model=row.get("model"),
        firmware=row.get("firmware"),
        resident_id=row.get("resident_id"),
        gateway_id=row.get("gateway_id"),
        interval_s=float(row["interval_s"]) if "interval_s" in row else None,
        worn_at=check_worn_at(row.get("worn_at")),
    )


def _exists(getter: Any, key: str) -> bool:
    try:
        getter(key)
    except NotFound:
        return False
    return True


def _raise_problems(problems: list[str]) -> None:
    if problems:
        raise RegistryError("nothing imported:\n" + "\n".join(problems))


def to_json(obj: Any) -> str:
    """Registry entities as JSON for ``--json`` CLI output."""
    from dataclasses import asdict

    return json.dumps(asdict(obj), ensure_ascii=False, sort_keys=True)
