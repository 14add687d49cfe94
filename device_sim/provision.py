"""Register a run's station, residents and devices in the hub's store, once.

Devices already registered are kept; their passwords come from the credentials file
written the first time (JSON ``{device_id: password}``). A registered device whose password
is not in the file gets a new one (``rotate_secret``). Only connecting devices (wearables,
pendants, gateways) need passwords; sub-devices speak through their gateway.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from device_sim.engine import Run
from hub.errors import Conflict, NotFound
from hub.registry.provisioning import provision_device, rotate_secret
from hub.store.base import City, Device, District, Resident, Station, Store

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ("秀英", "桂英", "建国", "玉兰", "淑珍", "德明", "凤英", "志强", "秀兰", "国华")


def add_places(store: Store, run: Run, label: str, *, street: str, born: tuple[int, int]) -> None:
    """Create the run's city (``label`` 市), district (``label`` 区), station and residents
    where missing; residents get names, an address on ``street`` and a birth year from
    ``born[0]`` spread over ``born[1]`` years."""
    sc = run.scenario.station
    with contextlib.suppress(Conflict):
        store.add_city(City(sc.city_id, f"{label}市"))
    with contextlib.suppress(Conflict):
        store.add_district(District(sc.district_id, sc.city_id, f"{label}区"))
    with contextlib.suppress(Conflict):
        store.add_station(Station(sc.id, sc.district_id, sc.name))
    known = {r.id for r in store.list_residents()}
    for i, home in enumerate(run.homes):
        if home.rid not in known:
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES) + i) % len(GIVEN)]
            store.add_resident(Resident(home.rid, sc.id, name, address=f"{street} {i + 1} 号",
                                        birth_year=born[0] + i % born[1]))  # fmt: skip


def provision_run(store: Store, run: Run, credentials: Path) -> dict[str, str]:
    """Create what is missing; return passwords of the connecting devices."""
    add_places(store, run, "模拟", street="模拟路", born=(1940, 15))
    saved: dict[str, str] = {}
    if credentials.exists():
        saved = json.loads(credentials.read_text(encoding="utf-8"))
    # gateways before their sub-devices
    for dev in sorted(run.devices, key=lambda d: d.gateway_id is not None):
        row = Device(dev.id, dev.kind, vendor=dev.vendor, model=dev.model, firmware=dev.firmware,
                     capabilities=dev.capabilities, resident_id=dev.resident_id,
                     gateway_id=dev.gateway_id, interval_s=dev.interval_s,
                     worn_at=dev.worn_at)  # fmt: skip
        try:
            store.get_device(dev.id)
        except NotFound:
            saved[dev.id] = provision_device(store, row).password
            continue
        if dev.gateway_id is None and dev.id not in saved:
            saved[dev.id] = rotate_secret(store, dev.id).password
    credentials.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    with contextlib.suppress(OSError):
        os.chmod(credentials, 0o600)
    return saved
