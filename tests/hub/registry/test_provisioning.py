"""Provisioning keeps only a hash of the secret; CSV import is all or nothing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from hub.errors import Conflict, NotFound, RegistryError
from hub.registry.provisioning import (
    DEVICE_SECRET_BYTES,
    credentials_csv,
    import_devices,
    import_residents,
    provision_device,
    rotate_secret,
    verify_secret,
)
from hub.store.base import City, Device, District, Resident, Station, Store


@pytest.fixture
def station(store: Store) -> str:
    store.add_city(City("sh", "上海市"))
    store.add_district(District("sh-jd", "sh", "嘉定区"))
    store.add_station(Station("st-1", "sh-jd", "菊园新区养老服务站"))
    store.add_district(District("cm", "sh", "崇明区", "county"))
    store.add_station(Station("st-2", "cm", "港西镇互助幸福院", "mutual_aid"))
    return "st-1"


def test_provisioning_returns_the_secret_once_and_stores_only_a_hash(
    store: Store, station: str
) -> None:
    store.add_resident(Resident("r-1", station, "李桂兰"))
    creds = provision_device(store, Device("w-1", "wearable", resident_id="r-1"))
    assert creds.username == "w-1"
    assert len(creds.password) >= 24
    stored = store.get_device_secret("w-1")
    assert stored is not None
    assert creds.password not in stored
    assert stored.startswith("$argon2")
    assert verify_secret(store, "w-1", creds.password)
    assert not verify_secret(store, "w-1", creds.password + "x")
    new = rotate_secret(store, "w-1")
    assert verify_secret(store, "w-1", new.password)
    assert not verify_secret(store, "w-1", creds.password)


def test_provisioning_checks_kind_resident_and_gateway(store: Store, station: str) -> None:
    with pytest.raises(RegistryError, match="kind"):
        provision_device(store, Device("x-1", "toaster"))
    with pytest.raises(NotFound):
        provision_device(store, Device("x-2", "wearable", resident_id="nobody"))
    provision_device(store, Device("pir-1", "motion"))
    with pytest.raises(RegistryError, match="not a gateway"):
        provision_device(store, Device("x-3", "door", gateway_id="pir-1"))
    with pytest.raises(RegistryError, match="invalid device id"):
        provision_device(store, Device("bad/id", "wearable"))
    with pytest.raises(RegistryError, match="body position 'ankle'"):
        provision_device(store, Device("x-4", "wearable", worn_at="ankle"))


RESIDENTS = (
    "\ufeffid,name,address,lat,lon,birth_year,spo2_scale,"
    "contact_name,contact_relation,contact_phone,contact_channels\n"
    "r-10,张建国,嘉定区菊园路 88 弄 3 号 502,31.39,121.25,1938,2,"
    "张敏,daughter,13800000000,mailto://zm@example.org;json://127.0.0.1:9/hook\n"
    "r-11,陈阿婆,嘉定区菊园路 90 弄 1 号 101,,,1944,,,,,\n"
)

DEVICES = """id,kind,vendor,model,resident_id,gateway_id,interval_s,worn_at
w-10,wearable,Acme,B1,r-10,,60,waist
gw-10,gateway,Acme,G2,r-10,,,
door-10,door,Acme,D1,r-10,gw-10,,
bed-11,bed,Acme,S3,r-11,gw-10,,
"""


def test_csv_import_of_residents_contacts_and_devices(store: Store, station: str) -> None:
    added = import_residents(store, station, RESIDENTS)
    assert [r.id for r in added] == ["r-10", "r-11"]
    r10 = store.get_resident("r-10")
    assert (r10.name, r10.lat, r10.birth_year, r10.clinical) == (
        "张建国",
        31.39,
        1938,
        {"spo2_scale": 2},
    )
    [contact] = store.list_contacts("r-10")
    assert contact.channels == ("mailto://zm@example.org", "json://127.0.0.1:9/hook")
    assert store.list_contacts("r-11") == []

    creds = import_devices(store, station, DEVICES)
    assert sorted(c.device_id for c in creds) == ["bed-11", "door-10", "gw-10", "w-10"]
    assert store.get_device("door-10").gateway_id == "gw-10"
    assert store.get_device("w-10").interval_s == 60
    assert store.get_device("w-10").worn_at == "waist"
    assert store.get_device("gw-10").worn_at is None
    text = credentials_csv(creds)
    assert text.splitlines()[0] == "device_id,username,password"
    assert all(verify_secret(store, c.device_id, c.password) for c in creds)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id,name,shoe_size\nr-1,A,42\n", "unknown columns"),
        ("name\nA\n", "missing columns"),
        ("id,name\n", "no rows"),
        ("id,name,lat\nr-1,A,91\nr-2,B,north\n", "line 2: lat/lon out of range"),
        ("id,name,spo2_scale\nr-1,A,3\n", "spo2_scale must be 1 or 2"),
        ("id,name\nr-1,A\nr-1,B\n", "line 3: resident r-1 appears twice"),
    ],
)
def test_bad_resident_csv_imports_nothing_and_says_where(
    store: Store, station: str, text: str, problem: str
) -> None:
    with pytest.raises(RegistryError, match=problem):
        import_residents(store, station, text)
    assert store.list_residents(station) == []


def test_bad_device_csv_imports_nothing(store: Store, station: str) -> None:
    import_residents(store, station, RESIDENTS)
    store.add_resident(Resident("r-99", "st-2", "外站老人"))
    bad = DEVICES + "w-99,wearable,,,r-99,,,\nz-1,fridge,,,,,,\ns-1,smoke,,,,gw-missing,,\n"
    with pytest.raises(RegistryError) as info:
        import_devices(store, station, bad)
    message = str(info.value)
    assert "line 6: resident r-99 is not in st-1" in message
    assert "line 7: unknown device kind 'fridge'" in message
    assert "line 8: gateway gw-missing does not exist" in message
    assert store.list_devices() == []


def bulk_csv(gateways: int, per_gateway: int, wearables: int, residents: list[str]) -> str:
    lines = ["id,kind,vendor,model,resident_id,gateway_id,interval_s"]
    for g in range(gateways):
        lines.append(f"gw-{g:04d},gateway,Acme,G2,{residents[g % len(residents)]},,")
        lines += [f"door-{g:04d}-{k},door,Acme,D1,,gw-{g:04d}," for k in range(per_gateway)]
    lines += [f"w-{w:04d},wearable,Acme,B1,{residents[w % len(residents)]},,60"
              for w in range(wearables)]  # fmt: skip
    return "\n".join(lines) + "\n"


def test_bulk_import_gives_the_same_registry_as_provisioning_one_by_one(
    store: Store, station: str
) -> None:
    """The batched path (one existence query, cheap argon2id, one transaction) registers
    exactly what provisioning each device on its own does, and every credential verifies."""
    residents = [f"r-{i}" for i in range(10)]
    for rid in residents:
        store.add_resident(Resident(rid, station, rid))
    text = bulk_csv(gateways=20, per_gateway=3, wearables=40, residents=residents)
    creds = import_devices(store, station, text)
    assert len(creds) == 120 == len({c.password for c in creds})
    imported = {d.id: d for d in store.list_devices()}
    assert len(imported) == 120
    # the per-device path, device by device, on the same rows under other ids
    for d in sorted(imported.values(), key=lambda d: d.kind != "gateway"):
        gw = None if d.gateway_id is None else f"one-{d.gateway_id}"
        provision_device(store, Device(f"one-{d.id}", d.kind, vendor=d.vendor, model=d.model,
                                       resident_id=d.resident_id, gateway_id=gw,
                                       interval_s=d.interval_s))  # fmt: skip
    for d in imported.values():
        one = store.get_device(f"one-{d.id}")
        gw = None if d.gateway_id is None else f"one-{d.gateway_id}"
        assert (one.kind, one.vendor, one.model, one.resident_id, one.gateway_id,
                one.interval_s, one.enabled, one.capabilities) == (
                d.kind, d.vendor, d.model, d.resident_id, gw, d.interval_s, d.enabled,
                d.capabilities)  # fmt: skip
    for c in creds:
        assert len(c.password) >= 4 * DEVICE_SECRET_BYTES // 3  # 192 random bits
        assert verify_secret(store, c.device_id, c.password)
        assert not verify_secret(store, c.device_id, c.password[:-1] + "!")
        assert store.get_device_secret(c.device_id).startswith("$argon2id$v=19$m=64,t=1,p=1$")


def test_secrets_hashed_with_the_former_parameters_still_verify(store: Store, station: str) -> None:
    provision_device(store, Device("w-old", "wearable"))
    store.set_device_secret("w-old", PasswordHasher().hash("an-older-secret"))  # the defaults
    assert verify_secret(store, "w-old", "an-older-secret")
    assert not verify_secret(store, "w-old", "another")


def test_bulk_import_writes_nothing_when_the_registry_refuses_one_device(
    store: Store, station: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks pass, then another writer registers one of the ids before the import's
    transaction: the whole file stays out, not the devices before it."""
    text = bulk_csv(gateways=3, per_gateway=2, wearables=4, residents=["r-x"])
    store.add_resident(Resident("r-x", station, "x"))
    kinds = store.device_kinds

    def racing(ids: object) -> dict[str, str]:
        found = kinds(ids)  # type: ignore[arg-type]
        store.add_device(Device("w-0003", "wearable"))
        return found

    monkeypatch.setattr(store, "device_kinds", racing)
    with pytest.raises(Conflict):
        import_devices(store, station, text)
    assert [d.id for d in store.list_devices()] == ["w-0003"]
