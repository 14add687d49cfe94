"""The demo's extra logins (a family member, a district admin) work and keep their
passwords from one run to the next; a week of history is written once, with sequence
numbers the simulator never uses, and charts have days to show."""

from __future__ import annotations

import json
import time
from pathlib import Path

from carehub.demo_extras import HISTORY_DAYS, ensure_role_logins, seed_history
from dashboard.auth import verify_password
from hub.store.base import City, Device, District, Resident, Station, Store


def _station(store: Store) -> None:
    store.add_city(City("c", "演示市"))
    store.add_district(District("d", "c", "演示区"))
    store.add_station(Station("st", "d", "演示站"))
    store.add_resident(Resident("r-1", "st", "甲"))
    store.add_device(Device("w-1", "wearable", resident_id="r-1"))
    store.add_device(Device("g-1", "gateway", resident_id="r-1"))


def test_family_and_admin_logins_are_made_once(sqlite_store: Store, tmp_path: Path) -> None:
    _station(sqlite_store)
    path = tmp_path / "demo-login.json"
    path.write_text(json.dumps({"user": "demo", "password": "staff-pw"}))
    first = ensure_role_logins(sqlite_store, path, district_id="d", resident_id="r-1")
    again = ensure_role_logins(sqlite_store, path, district_id="d", resident_id="r-1")
    assert first == again and [x.label for x in first] == ["family", "admin"]
    assert json.loads(path.read_text())["password"] == "staff-pw"  # the staff login stays
    family = sqlite_store.get_user("demo-family")
    assert (family.role, family.resident_ids) == ("family", ("r-1",))
    assert verify_password(family.password_hash, first[0].password)
    admin = sqlite_store.get_user("demo-admin")
    assert (admin.role, admin.scope_id) == ("district_admin", "d")
    assert verify_password(admin.password_hash, first[1].password)


def test_a_week_of_history_once(sqlite_store: Store, tmp_path: Path) -> None:
    _station(sqlite_store)
    now = time.time()
    written = seed_history(sqlite_store, tmp_path, now)
    assert written == HISTORY_DAYS * 72  # the wearable only, every 20 minutes
    assert seed_history(sqlite_store, tmp_path, now) == 0
    rows = sqlite_store.vitals_series(["w-1"], now - HISTORY_DAYS * 86_400, now, 3600)
    assert len(rows) >= HISTORY_DAYS * 24 - 2
    assert max(sqlite_store.recent_seqs(now - 86_400).get("w-1", [0])) < 0
