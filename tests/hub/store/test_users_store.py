"""The dashboard tables of the Store contract, on both back-ends: users with resident links,
sessions, API tokens, the latest telemetry per device (by device time, and by receive time
since a mark) and downsampled vital signs."""

from __future__ import annotations

import dataclasses

import pytest

from hub.errors import Conflict, NotFound, StoreError
from hub.store.base import (
    ApiTokenRow,
    City,
    Device,
    District,
    IngestBatch,
    Resident,
    SessionRow,
    Station,
    Store,
    TelemetryRow,
    UserRow,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def user(uid: str = "li", **kw: object) -> UserRow:
    base = UserRow(uid, "Li Na", "station_staff", "$argon2id$fake", T0, scope_id="st-1")
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_user_round_trip_update_and_links(store: Store) -> None:
    store.add_user(user())
    fam = user("wang", role="family", scope_id=None, resident_ids=("r-1", "r-2"),
               prefs={"quiet_hours": ["22:00", "07:00"]}, language="en")  # fmt: skip
    store.add_user(fam)
    assert store.get_user("wang") == fam
    assert store.get_user("li").resident_ids == ()
    with pytest.raises(Conflict):
        store.add_user(user())
    store.update_user(dataclasses.replace(fam, resident_ids=("r-2",), disabled=True))
    got = store.get_user("wang")
    assert (got.resident_ids, got.disabled) == (("r-2",), True)
    assert [u.id for u in store.list_users(resident_id="r-2")] == ["wang"]
    assert store.list_users(resident_id="r-1") == []
    assert [u.id for u in store.list_users(role="station_staff", scope_id="st-1")] == ["li"]
    assert [u.id for u in store.list_users()] == ["li", "wang"]
    with pytest.raises(NotFound):
        store.update_user(user("nobody"))
    with pytest.raises(NotFound):
        store.get_user("nobody")


def test_sessions(store: Store) -> None:
    store.add_user(user())
    store.add_session(SessionRow("h1", "li", "csrf1", T0, T0 + 100))
    store.add_session(SessionRow("h2", "li", "csrf2", T0, T0 + 10))
    assert store.get_session("h1") == SessionRow("h1", "li", "csrf1", T0, T0 + 100)
    assert store.delete_sessions(expired_before=T0 + 50) == 1
    with pytest.raises(NotFound):
        store.get_session("h2")
    assert store.delete_sessions(id_hash="h1") == 1
    assert store.delete_sessions(user_id="li") == 0
    with pytest.raises(StoreError):
        store.delete_sessions()


def test_sessions_slide(store: Store) -> None:
    store.add_user(user())
    store.add_session(SessionRow("h1", "li", "csrf1", T0, T0 + 100))
    store.extend_session("h1", T0 + 500)
    assert store.get_session("h1") == SessionRow("h1", "li", "csrf1", T0, T0 + 500)
    with pytest.raises(NotFound):
        store.extend_session("gone", T0 + 500)


def test_api_tokens(store: Store) -> None:
    store.add_user(user())
    tok = ApiTokenRow("t-1", "li", "hash1", "laptop", T0, expires_at=T0 + 86400)
    store.add_api_token(tok)
    assert store.get_api_token("hash1") == tok
    with pytest.raises(Conflict):
        store.add_api_token(dataclasses.replace(tok, id="t-2"))  # same hash
    store.revoke_api_token("t-1", T0 + 5)
    store.revoke_api_token("t-1", T0 + 9)  # the first revocation time stays
    assert store.list_api_tokens("li")[0].revoked_at == T0 + 5
    with pytest.raises(NotFound):
        store.revoke_api_token("t-x", T0)
    with pytest.raises(NotFound):
        store.get_api_token("nope")


def _registry(store: Store) -> None:
    store.add_city(City("sh", "Shanghai"))
    store.add_district(District("pd", "sh", "Pudong"))
    store.add_station(Station("st-1", "pd", "One"))
    store.add_resident(Resident("r-1", "st-1", "Zhang"))
    store.add_device(Device("w-1", "wearable", resident_id="r-1"))
    store.add_device(Device("w-2", "wearable", resident_id="r-1"))


def _tel(device: str, seq: int, ts: float, **values: float) -> TelemetryRow:
    return TelemetryRow(device, seq, ts, ts, values)


def test_latest_telemetry(store: Store) -> None:
    _registry(store)
    store.write_batch(IngestBatch(telemetry=[
        _tel("w-1", 1, T0, hr=70), _tel("w-1", 2, T0 + 60, hr=75, battery=80),
        _tel("w-1", 3, T0 + 30, hr=71),  # late arrival: older device time
    ]))  # fmt: skip
    latest = store.latest_telemetry(["w-1", "w-2", "w-1"])
    assert list(latest) == ["w-1"]
    assert latest["w-1"].seq == 2 and latest["w-1"].values == {"hr": 75, "battery": 80}
    assert store.latest_telemetry([]) == {}


def test_latest_received_is_the_newest_row_by_receive_time_since_a_mark(store: Store) -> None:
    _registry(store)
    late = TelemetryRow("w-1", 3, T0 + 90, T0 + 30, {"hr": 71})  # newest device time
    store.write_batch(IngestBatch(telemetry=[
        _tel("w-1", 1, T0, hr=70), _tel("w-1", 2, T0 + 60, hr=75), late,
        _tel("w-2", 1, T0 + 10, spo2=97),
    ]))  # fmt: skip
    found = store.latest_received(T0 + 10)
    assert [(r.device_id, r.seq, r.values) for r in found] == [("w-1", 2, {"hr": 75})]
    both = store.latest_received(T0 - 1)
    assert [(r.device_id, r.seq) for r in both] == [("w-1", 2), ("w-2", 1)]
    assert store.latest_received(T0 + 60) == []


def test_vitals_series_buckets_mean_min_max(store: Store) -> None:
    _registry(store)
    rows = [_tel("w-1", i, T0 + 10 * i, hr=60 + i, spo2=95) for i in range(12)]  # 2 minutes
    rows.append(_tel("w-2", 1, T0 + 5, temp=36.6))
    store.write_batch(IngestBatch(telemetry=rows))
    series = store.vitals_series(["w-1", "w-2"], T0, T0 + 120, 60)
    assert [(b.device_id, b.start, b.n) for b in series] == [
        ("w-1", T0, 6), ("w-1", T0 + 60, 6), ("w-2", T0, 1),
    ]  # fmt: skip
    first = series[0].values
    assert first["hr"] == pytest.approx((62.5, 60, 65))
    assert first["spo2"] == pytest.approx((95, 95, 95))
    assert "temp" not in first
    assert series[2].values == {"temp": pytest.approx((36.6, 36.6, 36.6))}
    # the window is half-open and filters devices
    assert [b.n for b in store.vitals_series(["w-1"], T0 + 60, T0 + 110, 3600)] == [5]
    assert store.vitals_series([], T0, T0 + 1, 60) == []
    with pytest.raises(StoreError):
        store.vitals_series(["w-1"], T0, T0 + 1, 0)
