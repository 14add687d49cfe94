"""The Store contract, run against every back-end (``store`` is parametrized).

Times are multiples of a microsecond so that they round-trip exactly through PostgreSQL's
``timestamptz``; one test checks that other floats come back within a microsecond.
"""

from __future__ import annotations

import dataclasses
import threading

import pytest

from hub.errors import Conflict, NotFound, StoreError
from hub.store.base import (
    VITAL_FIELDS,
    City,
    CommandReplyRow,
    Contact,
    DeadLetter,
    Device,
    DeviceState,
    District,
    EventRow,
    IngestBatch,
    Resident,
    Station,
    StatusChange,
    Store,
    TelemetryRow,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture
def home(store: Store) -> Store:
    """A store with one city, district, station, resident, gateway and wearable."""
    store.add_city(City("sh", "上海"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "pd", "潍坊社区养老服务站", address="潍坊路 1 号"))
    store.add_resident(Resident("r-1", "st-1", "王阿姨", birth_year=1941))
    store.add_device(Device("gw-1", "gateway", created_at=T0), secret_hash="$argon2id$gw")
    store.add_device(
        Device("w-1", "wearable", vendor="acme", resident_id="r-1", interval_s=30.0, created_at=T0)
    )
    return store


def telemetry(device: str, seq: int, ts: float, **values: float) -> TelemetryRow:
    return TelemetryRow(device, seq, ts, ts + 0.25, values or {"hr": 70.0 + seq})


# --- registry ----------------------------------------------------------------------------


def test_store_satisfies_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)
    assert store.backend in ("sqlite", "postgres", "timescale")


def test_migrate_twice_applies_nothing(store: Store) -> None:
    assert store.migrate() == []


def test_hierarchy_round_trips_and_filters(store: Store) -> None:
    store.add_city(City("sh", "上海"))
    store.add_city(City("bj", "北京"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_district(District("cm", "sh", "崇明区", kind="county"))
    store.add_district(District("hd", "bj", "海淀区"))
    full = Station("st-2", "cm", "互助幸福院", "mutual_aid", "陈家镇", 31.5, 121.9, "Asia/Shanghai")
    store.add_station(full)
    store.add_station(Station("st-1", "pd", "服务站"))

    assert store.list_cities() == [City("bj", "北京"), City("sh", "上海")]
    assert [d.id for d in store.list_districts("sh")] == ["cm", "pd"]
    assert store.list_districts("sh")[0].kind == "county"
    assert len(store.list_districts()) == 3
    assert store.get_station("st-2") == full
    assert store.list_stations("pd") == [Station("st-1", "pd", "服务站")]
    assert [s.id for s in store.list_stations()] == ["st-1", "st-2"]
    assert store.list_stations("nowhere") == []
    # a station without a zone keeps none (the hub's default applies); it can get one
    assert store.get_station("st-1").timezone is None
    moved = dataclasses.replace(full, name="幸福院", timezone="Asia/Urumqi")
    store.update_station(moved)
    assert store.get_station("st-2") == moved
    with pytest.raises(NotFound):
        store.update_station(Station("st-9", "pd", "nowhere"))


def test_registry_errors(store: Store) -> None:
    store.add_city(City("sh", "上海"))
    with pytest.raises(Conflict):
        store.add_city(City("sh", "again"))
    with pytest.raises(Conflict):  # unknown city: a violated reference
        store.add_district(District("x", "no-such-city", "x"))
    with pytest.raises(NotFound):
        store.get_station("nope")
    with pytest.raises(NotFound):
        store.get_resident("nope")
    with pytest.raises(NotFound):
        store.get_device("nope")
    with pytest.raises(NotFound):
        store.update_resident(Resident("nope", "st", "x"))
    with pytest.raises(NotFound):
        store.update_device(Device("nope", "wearable"))
    # a failed write leaves the store usable
    assert store.list_cities() == [City("sh", "上海")]


def test_residents_round_trip_and_update(home: Store) -> None:
    home.add_station(Station("st-2", "pd", "日间照料中心", kind="day_care"))
    clinical = {"spo2_scale": 2, "hr_high": 110, "notes": ["COPD", "高血压"], "w": 0.5}
    full = Resident("r-2", "st-2", "李伯伯", "某路 2 号", 31.2, 121.5, 1938, "hospital", clinical)
    home.add_resident(full)
    assert home.get_resident("r-2") == full
    assert [r.id for r in home.list_residents("st-2")] == ["r-2"]
    assert [r.id for r in home.list_residents()] == ["r-1", "r-2"]

    moved = dataclasses.replace(full, station_id="st-1", status="home", clinical={}, lat=None)
    home.update_resident(moved)
    assert home.get_resident("r-2") == moved
    with pytest.raises(Conflict):
        home.add_resident(full)
    with pytest.raises(Conflict):
        home.update_resident(dataclasses.replace(moved, station_id="no-such-station"))


def test_contacts(home: Store) -> None:
    son = Contact(
        "c-1", "r-1", "王小明", "son", "+86 138 0000 0000",
        ("wecombot://KEY", "mailto://ming@example.org"), {"min_priority": "medium", "lang": "zh"},
    )  # fmt: skip
    home.add_contact(son)
    home.add_contact(Contact("c-0", "r-1", "邻居"))
    assert home.list_contacts("r-1") == [Contact("c-0", "r-1", "邻居"), son]
    assert home.list_contacts("r-unknown") == []
    with pytest.raises(Conflict):
        home.add_contact(son)
    with pytest.raises(Conflict):
        home.add_contact(Contact("c-9", "r-unknown", "x"))


def test_devices_bound_to_residents_and_gateways(home: Store) -> None:
    sensor = Device(
        "s-1", "door", vendor="acme", model="D1", firmware="1.0", capabilities=("door", "battery"),
        resident_id="r-1", gateway_id="gw-1", interval_s=None, enabled=False, created_at=T0 + 1,
    )  # fmt: skip
    home.add_device(sensor)
    assert home.get_device("s-1") == sensor
    assert [d.id for d in home.list_devices(resident_id="r-1")] == ["s-1", "w-1"]
    assert home.list_devices(gateway_id="gw-1") == [sensor]
    assert home.list_devices(resident_id="r-1", gateway_id="gw-1") == [sensor]
    assert [d.id for d in home.list_devices()] == ["gw-1", "s-1", "w-1"]

    changed = dataclasses.replace(
        sensor, gateway_id=None, firmware="1.1", capabilities=(), worn_at="chest"
    )
    home.update_device(changed)
    assert home.get_device("s-1") == changed
    assert home.list_devices(gateway_id="gw-1") == []

    with pytest.raises(Conflict):
        home.add_device(sensor)
    with pytest.raises(Conflict):
        home.add_device(Device("s-2", "door", resident_id="r-unknown"))
    with pytest.raises(Conflict):
        home.add_device(Device("s-3", "door", gateway_id="gw-unknown"))


def test_device_creation_time_defaults_to_now(home: Store) -> None:
    import time

    before = time.time()
    home.add_device(Device("w-2", "wearable"))
    created = home.get_device("w-2").created_at
    assert before - 1 <= created <= time.time() + 1


def test_device_secrets(home: Store) -> None:
    assert home.get_device_secret("gw-1") == "$argon2id$gw"
    assert home.get_device_secret("w-1") is None
    home.set_device_secret("w-1", "$argon2id$new")
    assert home.get_device_secret("w-1") == "$argon2id$new"
    # update_device keeps the secret
    home.update_device(dataclasses.replace(home.get_device("w-1"), firmware="9"))
    assert home.get_device_secret("w-1") == "$argon2id$new"
    with pytest.raises(NotFound):
        home.set_device_secret("nope", "x")
    with pytest.raises(NotFound):
        home.get_device_secret("nope")


def test_bulk_device_add_is_one_transaction_all_or_nothing(home: Store) -> None:
    topic = "carehub/v1/devices/{}/telemetry"
    home.write_batch(IngestBatch(unprovisioned=[("s-2", topic.format("s-2"), T0, None)]))
    gw = Device("gw-2", "gateway", capabilities=("zigbee",), created_at=T0)
    sensors = [Device(f"s-{i}", "door", vendor="acme", resident_id="r-1", gateway_id="gw-2",
                      interval_s=60.0, created_at=T0 + i) for i in range(1, 4)]  # fmt: skip
    home.add_devices([(gw, "$argon2id$g2"), *((s, None) for s in sensors)])
    assert [home.get_device(d.id) for d in (gw, *sensors)] == [gw, *sensors]
    assert home.get_device_secret("gw-2") == "$argon2id$g2"
    assert home.get_device_secret("s-1") is None
    assert home.list_unprovisioned() == []  # s-2 was seen before it was provisioned
    before = home.list_devices()
    with pytest.raises(Conflict):  # one id taken: nothing of the batch is written
        home.add_devices([(Device("s-9", "door", created_at=T0), None),
                          (Device("w-1", "wearable", created_at=T0), None)])  # fmt: skip
    with pytest.raises(Conflict):  # a duplicate within the batch itself
        home.add_devices([(Device("s-8", "door", created_at=T0), None)] * 2)
    assert home.list_devices() == before
    home.add_devices([])
    band = Device("w-9", "wearable", resident_id="r-1", worn_at="waist", created_at=T0)
    home.add_devices([(band, None)])  # where it is worn decides its fall model
    assert home.get_device("w-9").worn_at == "waist"


def test_device_kinds_of_many_ids_at_once(home: Store) -> None:
    assert home.device_kinds(["gw-1", "w-1", "nope"]) == {"gw-1": "gateway", "w-1": "wearable"}
    assert home.device_kinds([]) == {}
    many = [f"x-{i}" for i in range(1200)] + ["w-1"]  # beyond SQLite's parameter limit
    assert home.device_kinds(many) == {"w-1": "wearable"}


def test_unprovisioned_lifecycle(home: Store) -> None:
    topic = "carehub/v1/devices/{}/telemetry"
    home.write_batch(
        IngestBatch(
            unprovisioned=[
                ("x-1", topic.format("x-1"), T0, None),
                ("w-1", topic.format("w-1"), T0, None),  # provisioned: not listed
            ]
        )
    )
    home.write_batch(
        IngestBatch(unprovisioned=[("x-1", "carehub/v1/gateways/gw-9/x-1/event", T0 + 5, "gw-9")])
    )
    home.write_batch(IngestBatch(unprovisioned=[("x-2", topic.format("x-2"), T0 + 2, None)]))
    listed = home.list_unprovisioned()
    assert [u.device_id for u in listed] == ["x-1", "x-2"]  # most recently seen first
    x1 = listed[0]
    assert (x1.first_seen, x1.last_seen, x1.count) == (T0, T0 + 5, 2)
    assert (x1.last_topic, x1.gateway_id) == ("carehub/v1/gateways/gw-9/x-1/event", "gw-9")

    home.add_device(Device("x-1", "wearable"))
    assert [u.device_id for u in home.list_unprovisioned()] == ["x-2"]


# --- ingest ------------------------------------------------------------------------------


def test_telemetry_round_trips_exactly(home: Store) -> None:
    acc = {"t0": T0 + 10.02, "hz": 50.0, "g": [[0.01, -0.98, 0.12], [2.5, -3.25, 0.0]] * 50}
    rows = [
        TelemetryRow(
            "w-1",
            1,
            T0 + 0.123456,
            T0 + 0.5,
            {f: float(i) + 0.5 for i, f in enumerate(VITAL_FIELDS)},
            quality={"hr": 0.9, "motion": True, "worn": None},
            acc=acc,
            ext={"vendor": {"温度单位": "°C", "n": [1, 2.5, None]}, "big": 2**53 - 1},
        ),
        TelemetryRow("w-1", 2, T0 + 1, T0 + 1.25, {"spo2": 96.0}),
        TelemetryRow("gw-1", 7, T0 + 2, T0 + 2, {"room_temp": -4.5, "humidity": 0.0}),
    ]
    assert home.write_batch(IngestBatch(telemetry=rows)) == []
    assert home.telemetry("w-1") == rows[:2]
    assert home.telemetry("gw-1") == rows[2:]
    assert home.telemetry("unknown") == []


def test_times_keep_microsecond_precision(home: Store) -> None:
    ts = T0 + 1 / 3
    home.write_batch(IngestBatch(telemetry=[telemetry("w-1", 1, ts)]))
    (row,) = home.telemetry("w-1")
    assert row.ts == pytest.approx(ts, abs=1e-6)


def test_telemetry_window_ordering_and_limit(home: Store) -> None:
    seqs = [5, 1, 4, 2, 3]  # written out of order
    home.write_batch(IngestBatch(telemetry=[telemetry("w-1", s, T0 + s) for s in seqs]))
    assert [r.seq for r in home.telemetry("w-1")] == [1, 2, 3, 4, 5]
    assert [r.seq for r in home.telemetry("w-1", since=T0 + 2)] == [2, 3, 4, 5]
    assert [r.seq for r in home.telemetry("w-1", until=T0 + 4)] == [1, 2, 3]
    assert [r.seq for r in home.telemetry("w-1", since=T0 + 2, until=T0 + 4)] == [2, 3]
    assert [r.seq for r in home.telemetry("w-1", limit=2)] == [1, 2]
    assert home.telemetry("w-1", since=T0 + 6) == []


def test_duplicates_are_dropped_and_the_rest_kept(home: Store) -> None:
    first = [telemetry("w-1", 1, T0 + 1), telemetry("w-1", 2, T0 + 2)]
    home.write_batch(IngestBatch(telemetry=first))
    redelivered = dataclasses.replace(first[1], values={"hr": 1.0})  # same key, later copy
    batch = IngestBatch(
        telemetry=[redelivered, telemetry("w-1", 3, T0 + 3), telemetry("w-1", 3, T0 + 3)],
        events=[EventRow("w-1", 4, T0 + 4, T0 + 4, "sos", {})] * 2,
    )
    home.write_batch(batch)
    home.write_batch(IngestBatch(events=[EventRow("w-1", 4, T0 + 4, T0 + 9, "sos", {"x": 1})]))
    assert [(r.seq, r.values["hr"]) for r in home.telemetry("w-1")] == [
        (1, 71.0), (2, 72.0), (3, 73.0),
    ]  # fmt: skip
    assert home.events("w-1") == [EventRow("w-1", 4, T0 + 4, T0 + 4, "sos", {})]
    # seq restarts after a reboot: same seq, another device time, both kept
    home.write_batch(IngestBatch(telemetry=[telemetry("w-1", 1, T0 + 100)]))
    assert [r.seq for r in home.telemetry("w-1")] == [1, 2, 3, 1]


def test_events_newest_first_with_filters(home: Store) -> None:
    events = [
        EventRow("gw-1", 1, T0 + 1, T0 + 1.5, "door", {"room": "entrance", "open": True}),
        EventRow("w-1", 2, T0 + 2, T0 + 2.5, "sos", {}),
        EventRow("gw-1", 3, T0 + 3, T0 + 3.5, "motion", {"room": "卫生间", "ext": {"k": [1]}}),
    ]
    home.write_batch(IngestBatch(events=events))
    assert home.events() == events[::-1]
    assert home.events("gw-1") == [events[2], events[0]]
    assert home.events(since=T0 + 2.5) == [events[2], events[1]]
    assert home.events(limit=1) == [events[2]]
    assert home.events("nobody") == []


def test_dead_letters_ids_order_filters_and_counts(home: Store) -> None:
    letters = [
        DeadLetter(T0 + 1, "carehub/v1/devices/w-1/telemetry", b"\xff\xfe\x00{", "encoding_invalid",
                   "not UTF-8", "w-1"),
        DeadLetter(T0 + 2, "carehub/v1/bogus", b"", "topic_invalid", "bad topic"),
        DeadLetter(T0 + 3, "carehub/v1/devices/w-1/event", b'{"type": 1}', "schema_invalid",
                   "type: wrong type", "w-1"),
    ]  # fmt: skip
    ids = home.write_batch(IngestBatch(dead_letters=letters))
    assert len(ids) == 3 and ids == sorted(ids) and len(set(ids)) == 3
    more = home.write_batch(IngestBatch(dead_letters=letters[:1]))
    assert more[0] > ids[-1]

    stored = home.dead_letters()
    expected = [dataclasses.replace(d, id=i) for d, i in zip(letters, ids, strict=True)]
    assert stored == [dataclasses.replace(letters[0], id=more[0]), *expected[::-1]]
    assert stored[0].payload == b"\xff\xfe\x00{"
    assert home.dead_letters(code="topic_invalid") == [expected[1]]
    assert [d.id for d in home.dead_letters(device_id="w-1")] == [more[0], ids[2], ids[0]]
    assert [d.id for d in home.dead_letters(device_id="w-1", code="schema_invalid")] == [ids[2]]
    assert len(home.dead_letters(limit=2)) == 2
    assert home.count_dead_letters() == {
        "encoding_invalid": 2, "topic_invalid": 1, "schema_invalid": 1,
    }  # fmt: skip


def test_status_history_and_device_state(home: Store) -> None:
    assert home.get_device_state("w-1") == DeviceState("w-1")  # never heard of
    birth = StatusChange(
        "w-1", True, T0 + 10, "birth",
        {"boot": 3, "firmware": "2.1.0", "model": "W2", "vendor": "Acme",
         "capabilities": ["hr", "spo2", "acc"], "interval_s": 60, "worn_at": "wrist"},
    )  # fmt: skip
    will = StatusChange("w-1", False, T0 + 20, "will", {"reason": "connection lost"})
    home.write_batch(IngestBatch(status=[birth, will]))

    assert home.status_history("w-1") == [will, birth]
    assert home.status_history("w-1", limit=1) == [will]
    state = home.get_device_state("w-1")
    assert (state.online, state.changed_at, state.boot) == (False, T0 + 20, 3)
    device = home.get_device("w-1")
    assert (device.firmware, device.model) == ("2.1.0", "W2")
    assert device.vendor == "acme"  # as provisioned: a device never changes its vendor
    assert device.capabilities == ("hr", "spo2", "acc")
    assert device.interval_s == 60.0
    assert device.worn_at == "wrist"
    assert device.resident_id == "r-1"  # untouched

    # a late, older status is logged but does not overturn the newer state
    late = StatusChange("w-1", True, T0 + 15, "birth")
    home.write_batch(IngestBatch(status=[late]))
    assert home.get_device_state("w-1").online is False
    assert home.status_history("w-1") == [will, late, birth]


def test_seen_keeps_the_newest_marks(home: Store) -> None:
    def seen(at: float, seq: int, boot: int | None = 1, off: float | None = None) -> IngestBatch:
        return IngestBatch(seen=[DeviceState("w-1", last_seen_at=at, last_seq=seq, boot=boot,
                                             clock_offset_s=off)])  # fmt: skip

    home.write_batch(seen(T0 + 10, 10, off=1.5))
    home.write_batch(seen(T0 + 5, 4))  # late flush from another worker: no regression
    state = home.get_device_state("w-1")
    assert (state.last_seen_at, state.last_seq, state.boot) == (T0 + 10, 10, 1)
    assert state.clock_offset_s == 1.5
    assert state.online is None

    home.write_batch(seen(T0 + 20, 2, boot=2, off=-0.25))  # rebooted: seq restarts
    state = home.get_device_state("w-1")
    assert (state.last_seen_at, state.last_seq, state.boot, state.clock_offset_s) == (
        T0 + 20, 2, 2, -0.25,
    )  # fmt: skip
    home.write_batch(seen(T0 + 21, 50, boot=1))  # stale boot
    assert home.get_device_state("w-1").last_seq == 2

    # a status with a new boot forgets the old seq
    home.write_batch(IngestBatch(status=[StatusChange("w-1", True, T0 + 30, "birth", {"boot": 3})]))
    state = home.get_device_state("w-1")
    assert (state.online, state.boot, state.last_seq) == (True, 3, None)


def test_device_states_list_every_registered_device(home: Store) -> None:
    home.write_batch(
        IngestBatch(
            seen=[
                DeviceState("w-1", last_seen_at=T0, last_seq=1),
                DeviceState("ghost", last_seen_at=T0, last_seq=1),  # not registered: ignored
            ]
        )
    )
    states = home.device_states()
    assert [s.device_id for s in states] == ["gw-1", "w-1"]
    assert states[0] == DeviceState("gw-1")
    assert states[1] == DeviceState("w-1", last_seen_at=T0, last_seq=1)
    with pytest.raises(NotFound):
        home.get_device_state("ghost")


def test_recent_seqs(home: Store) -> None:
    home.write_batch(
        IngestBatch(
            telemetry=[
                TelemetryRow("w-1", 3, T0, T0 + 100, {"hr": 60.0}),
                TelemetryRow("w-1", 1, T0, T0 + 50, {"hr": 60.0}),  # received too early
                TelemetryRow("gw-1", 9, T0, T0 + 101, {"room_temp": 20.0}),
            ],
            events=[
                EventRow("w-1", 2, T0 + 1, T0 + 100, "sos", {}),
                EventRow("w-1", 4, T0 + 2, T0 + 102, "button", {}),
            ],
        )
    )
    assert home.recent_seqs(T0 + 100) == {"w-1": [2, 3, 4], "gw-1": [9]}
    assert home.recent_seqs(T0 + 1000) == {}


def test_recent_seqs_keep_only_what_a_duplicate_window_keeps(home: Store) -> None:
    """After a day a wearable has sent ~2,000 numbers; the window holds the last 1,024,
    and only those come back (as 64-bit arrays, a list built per device on access)."""
    rows = [TelemetryRow("w-1", s, T0 + s, T0 + s, {"hr": 60.0}) for s in range(1, 2001)]
    events = [EventRow("gw-1", s, T0 + s, T0 + s, "button", {}) for s in (5, 7, 900)]
    home.write_batch(IngestBatch(telemetry=rows, events=events))
    recent = home.recent_seqs(T0, window=1024)
    assert recent["w-1"] == list(range(977, 2001))
    assert recent["gw-1"] == [5, 7, 900]  # far apart in time, all within 1,024 of the newest
    assert home.recent_seqs(T0, window=4) == {"w-1": [1997, 1998, 1999, 2000], "gw-1": [900]}


def test_command_replies(home: Store) -> None:
    replies = [
        CommandReplyRow("w-1", "cmd-1", T0 + 1, T0 + 1.5, "accepted"),
        CommandReplyRow("w-1", "cmd-2", T0 + 2, T0 + 2.5, "failed", "busy"),
        CommandReplyRow("w-1", "cmd-1", T0 + 3, T0 + 3.5, "done", "vibrated 3 s"),
    ]
    home.write_batch(IngestBatch(replies=replies))
    assert home.command_replies("w-1") == replies
    assert home.command_replies("w-1", "cmd-1") == [replies[0], replies[2]]
    assert home.command_replies("gw-1") == []


def test_a_batch_is_one_transaction(home: Store) -> None:
    bad = DeadLetter(T0, None, b"", "topic_invalid", "x")  # type: ignore[arg-type]
    batch = IngestBatch(
        telemetry=[telemetry("w-1", 1, T0)],
        events=[EventRow("w-1", 2, T0, T0, "sos", {})],
        dead_letters=[bad],
    )
    with pytest.raises(StoreError):
        home.write_batch(batch)
    assert home.telemetry("w-1") == []
    assert home.events() == []
    assert home.count_dead_letters() == {}
    home.write_batch(IngestBatch(telemetry=[telemetry("w-1", 1, T0)]))  # still usable
    assert len(home.telemetry("w-1")) == 1


def test_batch_of_5000_telemetry_rows(home: Store) -> None:
    acc = {"t0": T0, "hz": 50.0, "g": [[0.0, 0.0, 1.0]] * 50}
    rows = [
        TelemetryRow("w-1", i, T0 + i * 0.5, T0 + i * 0.5 + 0.125,
                     {"hr": 60.0 + i % 40, "spo2": 95.0}, acc=acc if i % 10 == 0 else None)
        for i in range(5000)
    ]  # fmt: skip
    home.write_batch(IngestBatch(telemetry=rows))
    stored = home.telemetry("w-1")
    assert len(stored) == 5000
    assert stored[0] == rows[0] and stored[4321] == rows[4321] and stored[-1] == rows[-1]
    assert home.recent_seqs(T0 + 2499)["w-1"] == list(range(4998, 5000))


def test_concurrent_writers(home: Store) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for k in range(10):
                seq = n * 100 + k
                home.write_batch(
                    IngestBatch(
                        telemetry=[telemetry("w-1", seq, T0 + seq)],
                        seen=[DeviceState("w-1", last_seen_at=T0 + seq, last_seq=seq)],
                    )
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(home.telemetry("w-1")) == 40
    assert home.get_device_state("w-1").last_seq == 309
