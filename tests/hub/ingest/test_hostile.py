"""What a hostile or broken device can make the hub keep, and say, is bounded."""

from __future__ import annotations

import hashlib
import json

from hub.contract import limits
from hub.contract.codes import ErrorCode
from hub.ingest.core import Ingest
from tests.helpers.messages import NOW, Msg
from tests.hub.ingest.test_core import ingest, reports, tel

__all__ = ["ingest"]  # the fixture


def test_a_huge_payload_keeps_a_prefix_with_its_size_and_hash(ingest: Ingest) -> None:
    payload = b'{"hr": ' + b"9" * 200_000 + b"}"
    ingest.handle(Msg("carehub/v1/devices/w-1/telemetry", payload))
    [letter] = ingest.take().dead_letters
    assert letter.code == ErrorCode.PAYLOAD_TOO_LARGE
    assert letter.payload == payload[:4096]
    assert letter.size == len(payload)
    assert letter.sha256 == hashlib.sha256(payload).hexdigest()


def test_a_gateway_naming_unknown_ids_is_limited_before_the_lookup(ingest: Ingest) -> None:
    for i in range(1000):  # 1000 made-up sub-devices at once
        topic = f"carehub/v1/gateways/gw-1/devices/made-up-{i}/telemetry"
        ingest.handle(Msg(topic, tel(1)))
    p = ingest.take()
    refused = ingest.metrics.refused
    assert refused.labels(ErrorCode.UNKNOWN_DEVICE)._value.get() == limits.RATE_BURST
    assert refused.labels(ErrorCode.RATE_LIMITED)._value.get() == 1000 - limits.RATE_BURST
    assert len(p.unprovisioned) == limits.UNCLAIMED_PER_GATEWAY
    assert ingest.metrics.unclaimed_not_listed._value.get() > 0
    # one dead letter and one report per code for the gateway, not one per made-up id
    assert sorted(d.code for d in p.dead_letters) == ["rate_limited", "unknown_device"]
    assert sorted(r["code"] for r in reports(p)) == ["rate_limited", "unknown_device"]
    assert {o.droppable for o in p.outbox} == {True}


def test_the_gateways_sub_devices_share_its_rate(ingest: Ingest) -> None:
    topic = "carehub/v1/gateways/gw-1/devices/door-1/event"
    for i in range(limits.RATE_BURST):
        ingest.handle(Msg(f"carehub/v1/gateways/gw-1/devices/x-{i}/event", tel(i)))
    ingest.handle(Msg(topic, json.dumps({"ts": NOW, "seq": 1, "type": "door"}).encode()))
    p = ingest.take()
    assert p.events == []
    assert [r["code"] for r in reports(p)][-1] == ErrorCode.RATE_LIMITED
    assert "gw-1 sent more" in reports(p)[-1]["detail"]


def test_the_next_report_says_how_many_were_suppressed(ingest: Ingest) -> None:
    topic = "carehub/v1/devices/w-1/telemetry"
    for i in range(7):  # within the throttle interval
        ingest.handle(Msg(topic, b"not json", received_at=NOW + i * 0.5))
    ingest.handle(Msg(topic, b"not json", received_at=NOW + limits.REPORT_INTERVAL_S + 1))
    p = ingest.take()
    assert [r["suppressed"] for r in reports(p)] == [0, 6]
    assert len(p.dead_letters) == 8  # ordinary refusals are all kept


def test_an_empty_payload_deletes_a_retained_message_and_is_not_refused(
    ingest: Ingest,
) -> None:
    msg = Msg("carehub/v1/devices/w-1/status", b"", retain=True)
    ingest.handle(msg)
    p = ingest.take()
    assert p.dead_letters == [] and p.outbox == [] and p.status == []
    assert ingest.ack_now == [msg]
    assert ingest.metrics.retained_cleared._value.get() == 1


def test_a_refused_retained_message_is_not_kept_again_on_every_reconnect(
    ingest: Ingest,
) -> None:
    garbage = Msg("carehub/v1/devices/w-1/status", b'{"state": 1}', retain=True)
    ingest.handle(garbage)
    first = ingest.take()
    assert [d.code for d in first.dead_letters] == [ErrorCode.SCHEMA_INVALID]
    for i in range(1, 4):  # the broker replays it on each resubscribe
        ingest.handle(Msg(garbage.topic, garbage.payload, retain=True, received_at=NOW + 60 * i))
    again = ingest.take()
    assert again.dead_letters == [] and again.outbox == []
    assert ingest.metrics.dead_letters_dropped.labels("retained")._value.get() == 3
    # the same bytes published live are refused (and kept) as always
    ingest.handle(Msg(garbage.topic, garbage.payload, received_at=NOW + 600))
    assert len(ingest.take().dead_letters) == 1


def test_made_up_topics_under_a_devices_own_tree_are_limited_too(ingest: Ingest) -> None:
    for i in range(500):  # what the broker's ACLs still let a device publish
        ingest.handle(Msg(f"carehub/v1/devices/w-1/junk-{i}", b"{}"))
    p = ingest.take()
    refused = ingest.metrics.refused
    assert refused.labels(ErrorCode.TOPIC_INVALID)._value.get() == limits.RATE_BURST
    assert refused.labels(ErrorCode.RATE_LIMITED)._value.get() == 500 - limits.RATE_BURST
    assert sorted(d.code for d in p.dead_letters) == ["rate_limited", "topic_invalid"]
    assert len(p.outbox) == 2


def test_a_refused_status_received_live_is_known_when_replayed(ingest: Ingest) -> None:
    garbage = b'{"state": "sleeping"}'
    ingest.handle(Msg("carehub/v1/devices/w-1/status", garbage))  # forwarded live: no flag
    assert len(ingest.take().dead_letters) == 1
    ingest.handle(Msg("carehub/v1/devices/w-1/status", garbage, retain=True, received_at=NOW + 60))
    assert ingest.take().dead_letters == []


def test_made_up_device_ids_are_bounded_together(ingest: Ingest) -> None:
    for i in range(3000):  # a broker that admits anyone: ids made up at will
        ingest.handle(Msg(f"carehub/v1/devices/made-up-{i}/telemetry", tel(1)))
    p = ingest.take()
    assert len(p.unprovisioned) == limits.UNCLAIMED_DIRECT
    assert len(p.dead_letters) == len(p.outbox) == limits.RATE_BURST  # one shared budget
    assert ingest.metrics.refused.labels(ErrorCode.UNKNOWN_DEVICE)._value.get() == 3000
