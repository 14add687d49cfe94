"""What makes the demo worth looking at beyond the live simulation: a login for each kind
of user (station staff, a family member, a district admin), and a week of vital-sign
history for every wearable, so the resident's charts show days, not a dot.

Both are made once per data folder: the logins' passwords are kept in ``demo-login.json``
next to the staff login, the history is marked done in ``history-seeded``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hub.errors import Conflict, NotFound
from hub.store.base import IngestBatch, Store, TelemetryRow, UserRow

HISTORY_DAYS = 7
HISTORY_MARK = "history-seeded"
WEARABLE_KINDS = ("wearable", "pendant")


@dataclass(frozen=True, slots=True)
class RoleLogin:
    """One extra demo login: what it is for, the user and the password."""

    label: str
    user: str
    password: str


def _user(store: Store, row: UserRow, password: str) -> None:
    """Create ``row`` or bring its password (and links) up to date."""
    from dashboard.auth import hash_password, verify_password

    try:
        have = store.get_user(row.id)
    except NotFound:
        with contextlib.suppress(Conflict):
            store.add_user(replace(row, password_hash=hash_password(password)))
        return
    if not verify_password(have.password_hash, password) or have.disabled:
        store.update_user(replace(have, password_hash=hash_password(password), disabled=False))


def ensure_role_logins(
    store: Store, login_file: Path, *, district_id: str, resident_id: str
) -> list[RoleLogin]:
    """The family and admin logins, kept in ``login_file`` beside the staff login."""
    try:
        data: dict[str, Any] = json.loads(login_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    now = time.time()
    wanted = [
        ("family", "demo-family", UserRow("demo-family", "演示家属", "family", "", now,
                                          None, (resident_id,))),
        ("admin", "demo-admin", UserRow("demo-admin", "演示区管理员", "district_admin", "", now,
                                        district_id)),
    ]  # fmt: skip
    out = []
    changed = False
    for label, user, row in wanted:
        entry = data.get(label)
        if not isinstance(entry, dict) or entry.get("user") != user or not entry.get("password"):
            entry = {"user": user, "password": secrets.token_urlsafe(12)}
            data[label] = entry
            changed = True
        _user(store, row, str(entry["password"]))
        out.append(RoleLogin(label, user, str(entry["password"])))
    if changed:
        login_file.write_text(json.dumps(data), encoding="utf-8")
        with contextlib.suppress(OSError):
            os.chmod(login_file, 0o600)
    return out


def seed_history(store: Store, data_dir: Path, now: float, *, seed: int = 1) -> int:
    """A week of plausible vital signs for every wearable and pendant (a daily rhythm
    plus noise, every 20 minutes), once per data folder. Returns the rows written.

    The rows take negative sequence numbers: they were never sent by a device, and the
    simulator's own numbers (from 1 at every run) must not be taken for duplicates."""
    mark = data_dir / HISTORY_MARK
    if mark.exists():
        return 0
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    rows: list[TelemetryRow] = []
    devices = [d for d in store.list_devices() if d.kind in WEARABLE_KINDS]
    for i, d in enumerate(sorted(devices, key=lambda d: d.id)):
        hr0 = 64 + (i * 7) % 18
        steps = HISTORY_DAYS * 72
        for k in range(steps):
            t = now - HISTORY_DAYS * 86_400 + k * 1_200
            hour = (t / 3600 + 8) % 24  # the demo station is in Asia/Shanghai
            day = math.sin((hour - 4) / 24 * 2 * math.pi)
            values: dict[str, float] = {
                "hr": round(hr0 + 7 * day + rng.gauss(0, 3), 1),
                "spo2": round(min(100.0, 96.5 + rng.gauss(0, 0.8)), 1),
                "temp": round(36.4 + 0.3 * day + rng.gauss(0, 0.08), 2),
                "rr": round(15 + 2 * day + rng.gauss(0, 0.8), 1),
            }
            if k % 18 == 0:  # blood pressure every six hours
                values |= {"sbp": round(126 + 8 * day + rng.gauss(0, 5)),
                           "dbp": round(78 + 4 * day + rng.gauss(0, 3))}  # fmt: skip
            rows.append(TelemetryRow(d.id, k - steps, t, t + 0.4, values))
    for start in range(0, len(rows), 5_000):
        store.write_batch(IngestBatch(telemetry=rows[start : start + 5_000]))
    mark.write_text(f"{now:.0f}\n", encoding="utf-8")
    return len(rows)
