"""The MQTT client's short path for plain PUBLISH packets (hub.mqtt.adapter._Client._packet_read):
it decodes exactly what paho decodes, leaves everything unusual to paho, and keeps the
order of a stream that mixes both."""

from __future__ import annotations

import socket

import paho.mqtt.client as paho
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.mqtt.adapter import MqttAdapter, MqttSettings, _plain_publish


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = n >> 7, n & 0x7F
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def user_properties(**pairs: str) -> bytes:
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = list(pairs.items())
    return bytes(props.pack())


def publish_packet(
    topic: bytes, payload: bytes, *, qos: int = 0, mid: int = 0, retain: bool = False,
    dup: bool = False, v5: bool = True, props: bytes = b"\x00",
) -> bytes:  # fmt: skip
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += mid.to_bytes(2, "big")
    if v5:
        body += props
    body += payload
    header = 0x30 | (dup << 3) | (qos << 1) | retain
    return bytes([header]) + varint(len(body)) + body


def fixed_header_length(packet: bytes) -> int:
    i = 1
    while packet[i] & 0x80:
        i += 1
    return i + 1


@given(
    topic=st.binary(max_size=40) | st.text(min_size=1, max_size=40).map(str.encode),
    payload=st.binary(max_size=400),
    qos=st.integers(0, 3),
    mid=st.integers(1, 65535),
    retain=st.booleans(),
    dup=st.booleans(),
    v5=st.booleans(),
    with_props=st.booleans(),
    cut=st.integers(0, 500),
    trailing=st.binary(max_size=20),
)
def test_decodes_what_paho_decodes_and_refuses_the_rest(
    topic: bytes, payload: bytes, qos: int, mid: int, retain: bool, dup: bool, v5: bool,
    with_props: bool, cut: int, trailing: bytes,
) -> None:  # fmt: skip
    props = user_properties(k="v") if with_props else b"\x00"
    packet = publish_packet(
        topic, payload, qos=qos, mid=mid, retain=retain, dup=dup, v5=v5, props=props
    )
    complete = cut >= len(packet)
    data = b"\xff" * 3 + (packet + trailing if complete else packet[:cut])
    got = _plain_publish(data, 3, v5)
    try:
        text = topic.decode()
    except UnicodeDecodeError:
        text = ""
    plain = complete and qos < 2 and bool(text) and not (v5 and with_props)
    if not plain:
        assert got is None
        return
    assert got is not None
    end, g_topic, g_payload, g_qos, g_retain, g_mid, g_dup = got
    assert end == 3 + len(packet)  # the next packet is left where it is
    protocol = MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311
    ref = _packet.decode_publish(packet[0], packet[fixed_header_length(packet) :], protocol)
    assert (g_topic.encode(), g_payload, g_qos, g_retain, g_mid, g_dup) == (
        ref.topic, ref.payload, ref.qos, ref.retain, ref.mid, ref.dup,
    )  # fmt: skip


def test_a_mixed_stream_keeps_its_order_across_both_paths() -> None:
    settings = MqttSettings.from_url("mqtt://127.0.0.1:1?client_id=short-path")
    client = MqttAdapter(settings, subscriptions=[])._make_client(5)
    got: list[tuple[str, str, bytes, int]] = []
    client.publish_sink = lambda t, p, q, _r, _m, _d: got.append(("short", t, p, q))
    client.on_message = lambda _c, _u, m: got.append(("paho", m.topic, m.payload, m.qos))
    stream = [
        publish_packet(b"a/1", b"one", qos=1, mid=1),
        publish_packet(b"a/2", b"two", props=user_properties(vendor="acme")),
        publish_packet(b"a/3", b"three"),
        publish_packet(b"a/4", b"four" * 100, qos=1, mid=2),
    ]
    wire = b"".join(stream)
    split = len(wire) - 150  # the last packet arrives in two reads
    mine, peer = socket.socketpair()
    with mine, peer:
        mine.setblocking(False)
        client._sock = mine
        peer.sendall(wire[:split])
        for _ in range(10):
            assert client._packet_read() in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_AGAIN)
        assert [g[1] for g in got] == ["a/1", "a/2", "a/3"]  # a/4 is not all there yet
        peer.sendall(wire[split:])
        for _ in range(10):
            client._packet_read()
        client._sock = None
    assert got == [
        ("short", "a/1", b"one", 1),
        ("paho", "a/2", b"two", 0),  # properties: paho decodes it
        ("short", "a/3", b"three", 0),
        ("paho", "a/4", b"four" * 100, 1),  # began as a partial read: paho finished it
    ]
