"""The ingest core decides rows, refusals, acknowledgements and reports for each message."""

from __future__ import annotations

import json

import pytest

from hub.contract.codes import ErrorCode, WarningCode
from hub.ingest.core import Ingest
from hub.store.base import DEAD_LETTER_KEEP_BYTES, Device, DeviceState
from tests.helpers.messages import NOW, Msg


def tel(seq: int, ts: float = NOW, **values: object) -> bytes:
    return json.dumps({"ts": ts, "seq": seq, **(values or {"hr": 70})}).encode()


@pytest.fixture
def ingest() -> Ingest:
    ing = Ingest(clock=lambda: NOW)
    ing.set_devices(
        [
            Device("w-1", "wearable", resident_id="r-1"),
            Device("gw-1", "gateway"),
            Device("door-1", "door", gateway_id="gw-1"),
            Device("off-1", "wearable", enabled=False),
        ]
    )
    return ing


def reports(pending) -> list[dict]:
    return [json.loads(o.payload) for o in pending.outbox]


def test_valid_telemetry_becomes_a_row_and_is_acked_after_commit(ingest: Ingest) -> None:
    msg = Msg("carehub/v1/devices/w-1/telemetry", tel(1, hr=72, spo2=97), received_at=NOW + 1)
    ingest.handle(msg)
    p = ingest.take()
    assert [(r.device_id, r.seq, r.ts, r.received_at) for r in p.telemetry] == [
        ("w-1", 1, NOW, NOW + 1)
    ]
    assert p.telemetry[0].values == {"hr": 72.0, "spo2": 97.0}
    assert ingest.ack_now == []
    assert p.telemetry_acks == [msg]  # with the telemetry batch, after its commit
    assert p.acks == []
    assert not p.urgent
    assert p.dead_letters == []
    assert p.seen["w-1"].last_seq == 1
    assert p.accepted[0].device.resident_id == "r-1"


def test_event_is_urgent_and_acked_after_commit(ingest: Ingest) -> None:
    payload = json.dumps({"ts": NOW, "seq": 5, "type": "sos", "press": "long"}).encode()
    msg = Msg("carehub/v1/devices/w-1/event", payload)
    ingest.handle(msg)
    p = ingest.take()
    assert p.urgent
    assert p.acks == [msg]
    assert ingest.ack_now == []
    assert (p.events[0].type, p.events[0].data) == ("sos", {"press": "long"})


def test_split_sends_only_the_alarm_devices_state_with_the_alarm(ingest: Ingest) -> None:
    ingest.set_devices([Device("w-1", "wearable", resident_id="r-1"),
                        Device("w-2", "wearable", resident_id="r-2")])  # fmt: skip
    sos = json.dumps({"ts": NOW, "seq": 9, "type": "sos"}).encode()
    ingest.handle(Msg("carehub/v1/devices/w-2/telemetry", tel(1), qos=0))
    ingest.handle(Msg("carehub/v1/devices/w-1/telemetry", tel(1), qos=0))
    ingest.handle(Msg("carehub/v1/devices/w-1/event", sos))
    urgent, bulk = ingest.take().split()
    assert urgent.urgent and [e.type for e in urgent.events] == ["sos"]
    # w-1's state (last seq 9, from the SOS) goes with the SOS; w-2's with the telemetry
    assert {d: s.last_seq for d, s in urgent.seen.items()} == {"w-1": 9}
    assert {d: s.last_seq for d, s in bulk.seen.items()} == {"w-2": 1}
    assert [r.device_id for r in bulk.telemetry] == ["w-2", "w-1"]
    assert urgent.telemetry == [] and bulk.events == []


@pytest.mark.parametrize(
    ("topic", "payload", "code", "errors_topic"),
    [
        ("carehub/v1/devices/w-1/telemtry", tel(1), ErrorCode.TOPIC_INVALID,
         "carehub/v1/devices/w-1/errors"),
        ("carehub/v1/devices/nobody/telemetry", tel(1), ErrorCode.UNKNOWN_DEVICE,
         "carehub/v1/devices/nobody/errors"),
        ("carehub/v1/devices/off-1/telemetry", tel(1), ErrorCode.UNKNOWN_DEVICE,
         "carehub/v1/devices/off-1/errors"),
        ("carehub/v1/gateways/gw-1/devices/w-1/event", tel(1), ErrorCode.NOT_ON_GATEWAY,
         "carehub/v1/gateways/gw-1/devices/w-1/errors"),
        ("carehub/v1/devices/w-1/telemetry", b"x" * 70_000, ErrorCode.PAYLOAD_TOO_LARGE,
         "carehub/v1/devices/w-1/errors"),
        ("carehub/v1/devices/w-1/telemetry", b'{"ts": 1', ErrorCode.JSON_INVALID,
         "carehub/v1/devices/w-1/errors"),
        ("carehub/v1/devices/w-1/telemetry", b"\xff\xfe", ErrorCode.ENCODING_INVALID,
         "carehub/v1/devices/w-1/errors"),
        ("carehub/v1/devices/w-1/telemetry", tel(1, hr="70"), ErrorCode.SCHEMA_INVALID,
         "carehub/v1/devices/w-1/errors"),
        ("carehub/v1/devices/w-1/telemetry", tel(1, spo2=120), ErrorCode.VALUE_IMPLAUSIBLE,
         "carehub/v1/devices/w-1/errors"),
    ],
)  # fmt: skip
def test_refusals_are_dead_lettered_and_reported(
    ingest: Ingest, topic: str, payload: bytes, code: str, errors_topic: str
) -> None:
    msg = Msg(topic, payload)
    ingest.handle(msg)
    p = ingest.take()
    kept = payload[:DEAD_LETTER_KEEP_BYTES]
    assert [(d.code, d.topic, d.payload) for d in p.dead_letters] == [(code, topic, kept)]
    assert p.dead_letters[0].size == (len(payload) if len(payload) > len(kept) else None)
    assert p.telemetry == [] and p.events == []
    assert p.acks == [msg]  # acknowledged once the dead letter is stored
    [report] = reports(p)
    assert p.outbox[0].topic == errors_topic
    assert report["code"] == code and report["severity"] == "error" and report["dead_letter"]
    assert report["detail"]
    assert ingest.metrics.refused.labels(code)._value.get() == 1


def test_unknown_device_is_listed_for_claiming(ingest: Ingest) -> None:
    ingest.handle(Msg("carehub/v1/gateways/gw-1/devices/new-pir/event", tel(1)))
    p = ingest.take()
    assert p.unprovisioned == [
        ("new-pir", "carehub/v1/gateways/gw-1/devices/new-pir/event", NOW, "gw-1")
    ]


def test_gateway_speaks_for_its_sub_device(ingest: Ingest) -> None:
    payload = json.dumps({"ts": NOW, "seq": 1, "type": "door", "open": True}).encode()
    ingest.handle(Msg("carehub/v1/gateways/gw-1/devices/door-1/event", payload))
    p = ingest.take()
    assert p.dead_letters == []
    assert p.events[0].device_id == "door-1"
    assert p.accepted[0].gateway_id == "gw-1"


def test_duplicates_are_dropped_silently_but_reused_seq_is_refused(ingest: Ingest) -> None:
    topic = "carehub/v1/devices/w-1/telemetry"
    ingest.handle(Msg(topic, tel(1, hr=70)))
    ingest.handle(Msg(topic, tel(1, hr=70)))  # QoS 1 redelivery
    ingest.handle(Msg(topic, tel(1, hr=99)))  # same seq, other content
    p = ingest.take()
    assert len(p.telemetry) == 1
    assert [d.code for d in p.dead_letters] == [ErrorCode.SEQ_REUSED]
    assert ingest.metrics.duplicates._value.get() == 1


def test_duplicate_filter_survives_a_restart_through_seed() -> None:
    ing = Ingest(clock=lambda: NOW)
    ing.set_devices([Device("w-1", "wearable")])
    ing.seed([DeviceState("w-1", last_seq=41)], {"w-1": [40, 41]})
    ing.handle(Msg("carehub/v1/devices/w-1/telemetry", tel(41)))
    ing.handle(Msg("carehub/v1/devices/w-1/telemetry", tel(42)))
    p = ing.take()
    assert [r.seq for r in p.telemetry] == [42]
    assert p.dead_letters == []


def test_new_boot_lets_seq_restart(ingest: Ingest) -> None:
    topic = "carehub/v1/devices/w-1/telemetry"
    for seq in range(3000, 3003):
        ingest.handle(Msg(topic, tel(seq)))
    status = json.dumps({"state": "online", "ts": NOW, "boot": 2}).encode()
    ingest.handle(Msg("carehub/v1/devices/w-1/status", status, retain=True))
    ingest.handle(Msg(topic, tel(0)))
    p = ingest.take()
    assert [r.seq for r in p.telemetry] == [3000, 3001, 3002, 0]
    assert p.dead_letters == []


def test_seq_far_behind_without_reboot_is_refused(ingest: Ingest) -> None:
    topic = "carehub/v1/devices/w-1/telemetry"
    ingest.handle(Msg(topic, tel(5000)))
    ingest.handle(Msg(topic, tel(1)))
    assert [d.code for d in ingest.take().dead_letters] == [ErrorCode.SEQ_OUT_OF_WINDOW]


def test_status_birth_and_will(ingest: Ingest) -> None:
    birth = json.dumps({"state": "online", "ts": NOW, "firmware": "1.2.0", "boot": 1})
    ingest.handle(Msg("carehub/v1/devices/w-1/status", birth.encode(), retain=True))
    ingest.handle(
        Msg("carehub/v1/devices/w-1/status", b'{"state":"offline"}', received_at=NOW + 60)
    )
    p = ingest.take()
    assert [(s.online, s.source, s.at) for s in p.status] == [
        (True, "birth", NOW),
        (False, "will", NOW + 60),
    ]
    assert p.status[0].info["firmware"] == "1.2.0"
    assert p.seen["w-1"].online is False


def test_retained_status_replayed_on_resubscribe_is_not_a_new_change(ingest: Ingest) -> None:
    birth = json.dumps({"state": "online", "ts": NOW}).encode()
    ingest.handle(Msg("carehub/v1/devices/w-1/status", birth, retain=True))
    ingest.take()
    ingest.handle(Msg("carehub/v1/devices/w-1/status", birth, retain=True, received_at=NOW + 5))
    assert ingest.take().status == []


def test_rate_limit_refuses_a_flood_and_reports_once(ingest: Ingest) -> None:
    topic = "carehub/v1/devices/w-1/telemetry"
    for seq in range(300):
        ingest.handle(Msg(topic, tel(seq), received_at=NOW))
    p = ingest.take()
    assert len(p.telemetry) == 101  # the burst, and one that starts the device-clock bucket
    assert {d.code for d in p.dead_letters} == {ErrorCode.RATE_LIMITED}
    assert len(p.dead_letters) == 1  # one kept with its report; the rest only counted
    assert [r["code"] for r in reports(p)] == [ErrorCode.RATE_LIMITED]
    assert ingest.metrics.refused.labels(ErrorCode.RATE_LIMITED)._value.get() == 199
    assert ingest.metrics.dead_letters_dropped.labels("flood")._value.get() == 198


def test_a_backlog_delivered_at_once_is_not_a_flood(ingest: Ingest) -> None:
    """A hub that was down 10 minutes gets a wearable's 600 queued readings (one a second) in
    one burst: they are the device's history, spread over its own clock, and all kept."""
    topic = "carehub/v1/devices/w-1/telemetry"
    for seq in range(600):
        ingest.handle(Msg(topic, tel(seq, ts=NOW - 600 + seq), received_at=NOW))
    p = ingest.take()
    assert len(p.telemetry) == 600 and p.dead_letters == []
    assert len(p.telemetry_acks) == 600


def test_a_flood_cannot_pass_as_a_backlog(ingest: Ingest) -> None:
    """Readings that claim history beyond what the device's clock has spent, or that do not
    advance it, or QoS 0 ones (never held for the hub) get the plain rate limit."""
    topic = "carehub/v1/devices/w-1/telemetry"
    for seq in range(300):  # all at one instant of the device's clock: no history to claim
        ingest.handle(Msg(topic, tel(seq, ts=NOW), received_at=NOW))
    for seq in range(300, 600):  # timestamps in the hub's future earn nothing
        ingest.handle(Msg(topic, tel(seq, ts=NOW + seq), received_at=NOW))
    for seq in range(600, 900):  # QoS 0: a broker never holds these for the hub
        ingest.handle(Msg(topic, tel(seq, ts=NOW - 900 + seq - 600), qos=0, received_at=NOW))
    p = ingest.take()
    assert len(p.telemetry) == 101  # the burst, and one that starts the device-clock bucket
    assert {d.code for d in p.dead_letters} == {ErrorCode.RATE_LIMITED}
    assert ingest.metrics.refused.labels(ErrorCode.RATE_LIMITED)._value.get() == 799


def test_a_gateway_backlog_is_measured_over_its_sub_devices() -> None:
    """A gateway's sensors share its rate; their held history is measured on their clocks."""
    ingest = Ingest(clock=lambda: NOW)
    ingest.set_devices(
        [
            Device("gw-1", "gateway"),
            *(Device(f"s-{i}", "motion", gateway_id="gw-1") for i in range(3)),
        ]
    )
    for n in range(900):  # three sensors, one reading a second each over the last 5 minutes
        body = tel(n // 3, ts=NOW - 300 + n / 3)
        ingest.handle(Msg(f"carehub/v1/gateways/gw-1/devices/s-{n % 3}/telemetry", body))
    p = ingest.take()
    assert len(p.telemetry) == 900 and p.dead_letters == []


def test_clock_skew_is_warned_once_and_the_data_kept(ingest: Ingest) -> None:
    topic = "carehub/v1/devices/w-1/telemetry"
    for i in range(20):
        rx = NOW + 30 * i
        ingest.handle(Msg(topic, tel(i, ts=rx - 600), received_at=rx))  # 10 min behind
    p = ingest.take()
    assert len(p.telemetry) == 20
    warnings = [r for r in reports(p) if r["code"] == WarningCode.CLOCK_SKEW]
    assert len(warnings) == 1 and warnings[0]["severity"] == "warning"
    assert "behind" in warnings[0]["detail"]
    assert p.seen["w-1"].clock_offset_s == pytest.approx(-600)


def test_an_unnamed_door_is_accepted_with_a_warning_once_an_hour(ingest: Ingest) -> None:
    topic = "carehub/v1/gateways/gw-1/devices/door-1/event"
    for i in range(6):  # an unnamed contact opening and closing for two hours
        rx = NOW + 1200 * i
        body = {"ts": rx, "seq": i + 1, "type": "door", "open": i % 2 == 0}
        ingest.handle(Msg(topic, json.dumps(body).encode(), received_at=rx))
    named = {"ts": NOW + 7200, "seq": 7, "type": "door", "open": True, "door": "front"}
    ingest.handle(Msg(topic, json.dumps(named).encode(), received_at=NOW + 7200))
    p = ingest.take()
    assert len(p.events) == 7 and p.dead_letters == []
    warned = [r for r in reports(p) if r["code"] == WarningCode.DOOR_UNNAMED]
    assert [(r["severity"], r["seq"], r["dead_letter"]) for r in warned] == [
        ("warning", 1, False),
        ("warning", 4, False),
    ]
    assert "interior" in warned[0]["detail"]
    assert warned[0]["topic"] == topic  # the message concerned; sent on its errors topic
    assert {o.topic for o in p.outbox} == {"carehub/v1/gateways/gw-1/devices/door-1/errors"}


def test_backlog_upload_is_not_mistaken_for_skew(ingest: Ingest) -> None:
    topic = "carehub/v1/devices/w-1/telemetry"
    # an hour of readings buffered offline, uploaded within a few seconds, then live again
    for i in range(120):
        ingest.handle(Msg(topic, tel(i, ts=NOW - 3600 + 30 * i), received_at=NOW + i * 0.05))
    for i in range(120, 130):
        rx = NOW + 10 + 30 * (i - 120)
        ingest.handle(Msg(topic, tel(i, ts=rx - 0.5), received_at=rx))
    p = ingest.take()
    assert len(p.telemetry) == 130
    assert [r for r in reports(p) if r["code"] == WarningCode.CLOCK_SKEW] == []


def test_echo_of_our_own_publishes_is_ignored(ingest: Ingest) -> None:
    msg = Msg("carehub/v1/devices/w-1/errors", b'{"code":"x"}')
    ingest.handle(msg)
    p = ingest.take()
    assert p.rows() == 0 and p.outbox == []
    assert ingest.ack_now == [msg]


def test_error_reports_are_throttled_per_device_and_code(ingest: Ingest) -> None:
    for i in range(10):
        ingest.handle(
            Msg("carehub/v1/devices/w-1/telemetry", b"not json", received_at=NOW + i * 0.1)
        )
    p = ingest.take()
    assert len(p.dead_letters) == 10
    assert len(p.outbox) == 1
