"""The private parts of paho that the hub's MQTT client relies on are still there.

``hub/mqtt/adapter.py`` subclasses ``paho.Client``: it overrides ``_sock_recv`` and
``_packet_read`` and reads ``_sock``, ``_in_packet``, ``_protocol``, ``_manual_ack``,
``_msgtime_mutex``, ``_last_bytes_received`` and ``_send_puback``. paho is pinned exactly in
pyproject.toml; when the pin moves, this test names what changed instead of the short path
misreading packets.
"""

from __future__ import annotations

import inspect

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from hub.mqtt.adapter import _Client

HOOKS = {  # method → its parameters after self
    "_sock_recv": ["bufsize"],
    "_packet_read": [],
    "_send_puback": ["mid"],
}
STATE = ("_sock", "_in_packet", "_protocol", "_manual_ack", "_msgtime_mutex",
         "_last_bytes_received")  # fmt: skip


def test_the_overridden_and_called_methods_keep_their_signatures() -> None:
    for name, params in HOOKS.items():
        method = getattr(paho.Client, name, None)
        assert method is not None, f"paho.Client.{name} is gone: the short path needs it"
        got = list(inspect.signature(method).parameters)[1:]
        assert got == params, f"paho.Client.{name}{got}: the adapter expects {params}"


def test_the_state_the_short_path_reads_exists_on_a_new_client() -> None:
    client = _Client(CallbackAPIVersion.VERSION2, client_id="hooks-test")
    for name in STATE:
        assert hasattr(client, name), f"paho.Client has no {name} any more"
    assert client._in_packet["command"] == 0  # "not inside a packet" is still a falsy 0
    assert hasattr(paho, "time_func"), "paho.time_func (the keep-alive clock) is gone"
