"""The simulator's own MQTT publisher (paho): one connection per device that connects itself.

A wearable, a pendant and a home gateway each hold their own connection, as real ones do:
client id and username are the device id, the Last Will is ``{"state":"offline"}``
(retained, QoS 1) on its status topic, and paho reconnects by itself (we republish nothing
on reconnect: the run's births are messages of the run). Sub-devices speak through their
gateway's connection. One connection per device costs a socket and a thread per device:
fine for a station (tens to hundreds), which is what ``sim run`` drives; the load
generator (:mod:`device_sim.load`) shares connections instead.

MQTT 5 is asked for first; a broker that refuses it (the embedded amqtt speaks 3.1.1 only)
gets MQTT 3.1.1. QoS per the contract: events and status 1, telemetry 0 (bursts) or 1.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10.0


class Connection:
    """One device's MQTT connection."""

    def __init__(
        self,
        url: str,
        client_id: str,
        password: str | None,
        will: tuple[str, bytes] | None,
        protocol: MQTTProtocolVersion = paho.MQTTv5,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.client_id, self.password, self.will = client_id, password, will
        self.protocol = protocol
        self.sent = 0
        self._client = self._make(protocol)

    def _make(self, protocol: MQTTProtocolVersion) -> paho.Client:
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=protocol)
        c.max_queued_messages_set(0)
        c.max_inflight_messages_set(200)
        if self.password is not None:
            c.username_pw_set(self.client_id, self.password)
        if self.will is not None:
            c.will_set(self.will[0], self.will[1], qos=1, retain=True)
        c.reconnect_delay_set(1, 10)
        return c

    def connect(self) -> None:
        """Connect (MQTT 5, falling back to 3.1.1); raise ``ConnectionError`` on refusal."""
        for protocol in dict.fromkeys((self.protocol, paho.MQTTv311)):
            if protocol != self.protocol:
                self._client = self._make(protocol)
            done, result = threading.Event(), dict[str, object]()

            def on_connect(
                c: paho.Client,
                u: object,
                f: object,
                rc: object,
                p: object = None,
                done: threading.Event = done,
                result: dict[str, object] = result,
            ) -> None:
                result.setdefault("rc", rc)
                done.set()

            def on_disconnect(
                c: paho.Client,
                u: object,
                f: object,
                rc: object,
                p: object = None,
                done: threading.Event = done,
                result: dict[str, object] = result,
            ) -> None:
                result.setdefault("rc", rc)
                done.set()

            self._client.on_connect = on_connect
            self._client.on_disconnect = on_disconnect
            try:
                self._client.connect(self.host, self.port, keepalive=60)
            except OSError as exc:
                raise ConnectionError(
                    f"{self.client_id}: cannot reach {self.host}:{self.port}: {exc}"
                ) from None
            self._client.loop_start()
            ok = done.wait(CONNECT_TIMEOUT_S)
            rc = result.get("rc")
            if ok and rc is not None and not getattr(rc, "is_failure", True):
                self.protocol = protocol
                self._client.on_disconnect = None
                return
            self._client.loop_stop()
            self._client.disconnect()
        raise ConnectionError(
            f"{self.client_id}: broker refused the connection ({result.get('rc')})"
        )

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            log.warning("%s: publish on %s failed (rc %s)", self.client_id, topic, info.rc)
        self.sent += 1

    def close(self, timeout_s: float = 5.0) -> None:
        """Wait for QoS 1 messages in flight, then disconnect cleanly."""
        deadline = time.monotonic() + timeout_s
        while self._client.want_write() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        self._client.disconnect()
        self._client.loop_stop()


class Publisher:
    """The connections of a run, by device id."""

    def __init__(
        self, url: str, conns: Mapping[str, tuple[str | None, tuple[str, bytes] | None]]
    ) -> None:
        self.conns = {cid: Connection(url, cid, pw, will) for cid, (pw, will) in conns.items()}

    def connect(self) -> None:
        for c in self.conns.values():
            c.connect()

    def publish(self, conn: str, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.conns[conn].publish(topic, payload, qos, retain)

    def close(self) -> None:
        for c in self.conns.values():
            c.close()

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.conns.values())
