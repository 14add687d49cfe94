"""The simulator's own MQTT publisher (paho): one connection per device that connects itself.

A wearable, a pendant and a home gateway each hold their own connection, as real ones do:
client id and username are the device id, the Last Will is ``{"state":"offline"}``
(retained, QoS 1) on its status topic, and paho reconnects by itself (we republish nothing
on reconnect: the run's births are messages of the run). Sub-devices speak through their
gateway's connection. One connection per device costs a socket and a thread per device:
fine for a station (tens to hundreds), which is what ``sim run`` drives; the load
generator (:mod:`device_sim.load`) shares connections instead.

MQTT 5 is asked for first; a broker that refuses it gets MQTT 3.1.1. As for the hub
(:mod:`hub.mqtt.settings`), ``?protocol=3`` in the broker URL asks for 3.1.1 only (the
embedded amqtt speaks nothing else; every refused MQTT 5 attempt costs a reconnect delay)
and ``?protocol=5`` (or ``auto``) for MQTT 5 with the fall-back. QoS per the contract:
events and status 1, telemetry 0 (bursts) or 1.

Counting: ``sent`` is what paho reports as gone (its ``on_publish``: a QoS 0 message written
to the socket, a QoS 1 message acknowledged by the broker), not what was asked for. A QoS 0
message published while the connection is down is not handed to the network at all (paho
returns ``MQTT_ERR_NO_CONN`` and forgets it): it is counted in ``dropped``. A QoS 1 message
published while down waits in paho's queue and counts as sent once acknowledged after the
reconnect; what is neither sent nor dropped when the run ends was still in flight.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 10.0
_PROTOCOLS = {"5": paho.MQTTv5, "auto": paho.MQTTv5, "3": paho.MQTTv311, "3.1.1": paho.MQTTv311,
              "311": paho.MQTTv311, "4": paho.MQTTv311}  # fmt: skip


def url_protocol(url: str) -> MQTTProtocolVersion:
    """The MQTT version asked for by ``?protocol=`` in a broker URL (default 5).

    >>> url_protocol("mqtt://127.0.0.1:1883?protocol=3") == paho.MQTTv311
    True
    >>> url_protocol("mqtt://h?qos=1")
    Traceback (most recent call last):
    ValueError: broker URL option 'qos' is not known (the simulator reads only protocol)
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError(f"malformed broker URL {url!r}: {exc}") from None
    if parts.scheme != "mqtt" or not parts.hostname:
        raise ValueError(f"broker URL must look like mqtt://host:port, got {url!r}")
    protocol = paho.MQTTv5
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key == "client_id":  # the hub's option; each device is its own client here
            continue
        if key != "protocol":
            raise ValueError(f"broker URL option {key!r} is not known "
                             "(the simulator reads only protocol)")  # fmt: skip
        if value.lower() not in _PROTOCOLS:
            raise ValueError(f"broker URL option protocol={value!r}: use 5, 3 or auto")
        protocol = _PROTOCOLS[value.lower()]
    return protocol


class Connection:
    """One device's MQTT connection."""

    def __init__(
        self,
        url: str,
        client_id: str,
        password: str | None,
        will: tuple[str, bytes] | None,
        protocol: MQTTProtocolVersion | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.client_id, self.password, self.will = client_id, password, will
        self.protocol = protocol if protocol is not None else url_protocol(url)
        self.fallback = self.protocol == paho.MQTTv5
        self.published = 0
        """Messages asked for."""
        self.sent = 0
        """Messages paho reported as sent (QoS 0) or acknowledged (QoS 1)."""
        self.dropped = 0
        """QoS 0 messages not handed to the network (disconnected), or refused by paho."""
        self._lock = threading.Lock()  # on_publish runs in paho's network thread
        self._client = self._make(self.protocol)

    def _make(self, protocol: MQTTProtocolVersion) -> paho.Client:
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=protocol)
        c.max_queued_messages_set(0)
        c.max_inflight_messages_set(200)
        if self.password is not None:
            c.username_pw_set(self.client_id, self.password)
        if self.will is not None:
            c.will_set(self.will[0], self.will[1], qos=1, retain=True)
        c.reconnect_delay_set(1, 10)
        c.on_publish = self._on_publish
        return c

    def _on_publish(self, _c: paho.Client, _u: object, _mid: int, _rc: object, _p: object) -> None:
        with self._lock:
            self.sent += 1

    def connect(self) -> None:
        """Connect (MQTT 5, falling back to 3.1.1, unless the URL asked for 3.1.1 only);
        raise ``ConnectionError`` on refusal."""
        tries = (self.protocol, paho.MQTTv311) if self.fallback else (self.protocol,)
        for protocol in dict.fromkeys(tries):
            if protocol != self.protocol:
                self._client = self._make(protocol)
            done, result = threading.Event(), dict[str, object]()

            # CONNACK or a disconnect, whichever comes first, settles the attempt
            def settled(
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

            self._client.on_connect = settled
            self._client.on_disconnect = settled
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
        self.published += 1
        if info.rc == paho.MQTT_ERR_SUCCESS or (info.rc == paho.MQTT_ERR_NO_CONN and qos > 0):
            return  # on its way, or queued by paho until the reconnect
        with self._lock:
            self.dropped += 1
        if info.rc != paho.MQTT_ERR_NO_CONN:
            log.warning("%s: publish on %s failed (rc %s)", self.client_id, topic, info.rc)

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
    def published(self) -> int:
        return sum(c.published for c in self.conns.values())

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.conns.values())

    @property
    def dropped(self) -> int:
        return sum(c.dropped for c in self.conns.values())
