"""Hostile topics and payloads through the ingest core: nothing escapes, every refusal has
a reason code and a dead letter, and a valid device keeps being served during and after."""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.contract.codes import ErrorCode
from hub.ingest.core import Ingest
from hub.store.base import Device
from tests.helpers.messages import NOW, Msg

CODES = {c.value for c in ErrorCode}


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["ts", "seq", "hr", "spo2", "temp", "sbp", "dbp", "acc", "type", "state", "boot", "x"]
)
near_valid = st.fixed_dictionaries(
    {"ts": st.one_of(st.just(NOW), json_values), "seq": st.one_of(st.integers(), json_values)},
    optional={
        "hr": st.one_of(st.floats(), json_values),
        "spo2": st.floats(allow_nan=True),
        "type": st.sampled_from(["sos", "fall", "door", "boom", ""]),
        "state": st.sampled_from(["online", "offline", "on"]),
        "acc": json_values,
    },
).map(lambda d: json.dumps(d, allow_nan=True).encode())


def _deep(n: int) -> bytes:
    return b'{"a":' * n + b"1" + b"}" * n


payloads = st.one_of(
    near_valid,
    near_valid.flatmap(lambda b: st.integers(0, len(b)).map(lambda i: b[:i])),  # truncated
    st.dictionaries(field_names, json_values, max_size=6).map(
        lambda d: json.dumps(d, allow_nan=True).encode()
    ),
    st.binary(max_size=200),  # arbitrary bytes, mostly not UTF-8
    st.integers(1, 5000).map(_deep),
    st.just(b"x" * (1 << 20)),  # 1 MB blob
    st.just(b'{"ts": 1767225600, "seq": 1, "hr": 1e999}'),
    st.just(b'{"ts": 1767225600, "seq": 1, "hr": NaN}'),
    st.just(b"\xc3\x28"),
)
topics = st.one_of(
    st.sampled_from(
        [
            "carehub/v1/devices/w-1/telemetry",
            "carehub/v1/devices/w-1/event",
            "carehub/v1/devices/w-1/status",
            "carehub/v1/devices/w-1/reply",
            "carehub/v1/devices/ghost/telemetry",
            "carehub/v1/gateways/gw-1/devices/door-1/event",
            "carehub/v1/gateways/gw-1/devices/w-1/event",
            "carehub/v1/devices//telemetry",
            "carehub/v2/devices/w-1/telemetry",
        ]
    ),
    st.text(max_size=80).map(lambda t: "carehub/v1/" + t),
    st.text(max_size=80),
)


def _ingest() -> Ingest:
    ing = Ingest(clock=lambda: NOW, rate_burst=10_000, rate_per_s=10_000)
    ing.set_devices(
        [
            Device("w-1", "wearable"),
            Device("ok-1", "wearable"),
            Device("gw-1", "gateway"),
            Device("door-1", "door", gateway_id="gw-1"),
        ]
    )
    return ing


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(st.tuples(topics, payloads), min_size=1, max_size=8))
def test_hostile_messages_are_refused_with_reasons_and_valid_ones_still_served(
    batch: list[tuple[str, bytes]],
) -> None:
    ing = _ingest()
    seq = 0
    for topic, payload in batch:
        ing.handle(Msg(topic, payload))
        seq += 1  # a well-behaved device publishes between every hostile message
        good = json.dumps({"ts": NOW, "seq": seq, "hr": 70}).encode()
        ing.handle(Msg("carehub/v1/devices/ok-1/telemetry", good))
    p = ing.take()
    assert [r.seq for r in p.telemetry if r.device_id == "ok-1"] == list(range(1, seq + 1))
    hostile_outcomes = (
        len([r for r in p.telemetry if r.device_id != "ok-1"])
        + len(p.events)
        + len(p.status)
        + len(p.replies)
        + len(p.dead_letters)
    )
    duplicates = int(ing.metrics.duplicates._value.get())
    ignored = len([t for t, _ in batch if t.rsplit("/", 1)[-1] in ("cmd", "errors")])
    cleared = int(ing.metrics.retained_cleared._value.get())  # empty: MQTT's delete
    flood = int(ing.metrics.dead_letters_dropped.labels("flood")._value.get())
    # every hostile message is accounted for: stored, refused (kept, or counted when the same
    # refusal repeats within one report), a duplicate, our echo, or the empty payload that
    # deletes a retained message
    assert hostile_outcomes + flood + duplicates + ignored + cleared == len(batch)
    for d in p.dead_letters:  # ... and every refusal has a code, a reason and the raw bytes
        assert d.code in CODES
        assert d.code != ErrorCode.INTERNAL_ERROR, d.detail
        assert d.detail
        assert isinstance(d.payload, bytes)
    by_hash = {hashlib.sha256(b).hexdigest(): b for _, b in batch}
    for d in p.dead_letters:  # a long payload is kept as its first 4 KiB, size and hash
        if d.size is not None:
            whole = by_hash[d.sha256]
            assert d.size == len(whole) > 4096 and d.payload == whole[:4096]
