"""The hub's MQTT adapter: the only module of the hub that imports paho.

What crosses into our code is an :class:`Inbound` (a frozen dataclass), handed from paho's
network thread into asyncio through one bounded :class:`asyncio.Queue`::

    settings = MqttSettings.from_url("mqtt://hub:secret@broker:1883?client_id=hub-1")
    adapter = MqttAdapter(settings, subscriptions=[("carehub/v1/devices/+/+", 1)])
    await adapter.start()
    msg = await adapter.get()
    ...                      # store it, commit
    adapter.ack(msg)         # only now does the broker forget a QoS 1 message
    await adapter.stop()

Rules this module keeps (CONVENTIONS.md "One adapter per outside system"):

- The network thread never blocks. Messages are appended to a deque and moved into the
  queue by one ``call_soon_threadsafe`` per batch (each hop costs throughput; see
  DEPENDENCIES.md "Throughput facts").
- When the queue is full a message is **dropped and counted** (``dropped``, the
  ``on_drop`` hooks, a rate-limited warning). With ``manual_ack`` a dropped QoS 1 message is
  **not acknowledged**: once the consumer has caught up the adapter reconnects (clean
  DISCONNECT, no Last Will) so the broker redelivers everything unacknowledged; with a
  persistent session nothing is lost. Without ``manual_ack`` paho acknowledges on receipt
  and a dropped QoS 1 message is lost (it is still counted).
- Acknowledgement is manual by default: paho acknowledges a QoS 1 message when
  ``on_message`` returns, before anything reached the store (DEPENDENCIES.md), so we call
  ``ack`` after the commit instead. Delivery is at least once: duplicates are possible after
  a reconnect and the store drops them (same device and ``seq``).
- The reconnect loop is ours (exponential back-off with jitter); every connect
  re-subscribes and republishes the birth message. MQTT 5 is tried first and, when the
  broker refuses it (amqtt speaks 3.1.1 only), the adapter falls back to 3.1.1 once.
- paho errors become :class:`hub.errors.BrokerError` (or ``ConfigError`` for settings);
  a bad message is logged, counted and skipped, never raised into a loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.errors import BrokerError, ConfigError

log = logging.getLogger(__name__)

Protocol = Literal[3, 5]
_UNSUPPORTED_PROTOCOL = (0x84, 0x01)  # MQTT 5 reason code / MQTT 3.1.1 CONNACK return code
_DROP_LOG_INTERVAL = 10.0  # seconds between two "queue full" warnings
_PROBE_TIMEOUT = 10.0  # seconds to wait for the CONNACK of the MQTT 5 probe
_RESYNC_POLL = 0.5  # seconds between checks whether dropped QoS 1 messages can be refetched
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message received from the broker.

    ``mid`` is the packet id (0 for QoS 0) that :meth:`MqttAdapter.ack` needs; ``dup`` is
    set when the broker redelivers; ``session_epoch`` tells ``ack`` whether the message
    belongs to the current broker session (an ack for a discarded session is skipped).
    """

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received_at: float
    mid: int
    dup: bool = False
    session_epoch: int = 0


def _default_client_id() -> str:
    return f"carehub-hub-{socket.gethostname()}"


def _parse_bool(key: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"MQTT URL option {key}={value!r} is not a boolean (use true or false)")


def _parse_number(key: str, value: str, kind: type[int] | type[float], low: float) -> Any:
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"MQTT URL option {key}={value!r} is not a number") from None
    if number < low:
        raise ConfigError(f"MQTT URL option {key}={value!r} must be at least {low}")
    return number


_PROTOCOLS: dict[str, Protocol] = {"5": 5, "auto": 5, "3": 3, "3.1.1": 3, "311": 3, "4": 3}


@dataclass(frozen=True, slots=True, repr=False)
class MqttSettings:
    """How to reach the broker. Build it with :meth:`from_url`.

    ``protocol`` 5 means "MQTT 5, falling back to 3.1.1 when the broker refuses it";
    3 means MQTT 3.1.1 only. The session is persistent by default (``clean_start=False``;
    with MQTT 5 it expires ``session_expiry`` seconds after a disconnect) so QoS 1 messages
    published while the hub was away are delivered when it comes back.

    >>> s = MqttSettings.from_url("mqtts://hub:pw@example.org?protocol=3&insecure=true")
    >>> (s.tls, s.port, s.protocol, s.insecure)
    (True, 8883, 3, True)
    >>> "pw" in repr(s)
    False
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str = ""
    protocol: Protocol = 5
    keepalive: int = 60
    clean_start: bool = False
    session_expiry: int = 86_400
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0

    def __post_init__(self) -> None:
        if not self.client_id:
            object.__setattr__(self, "client_id", _default_client_id())
        if not self.tls and (self.ca_file or self.cert_file or self.key_file or self.insecure):
            raise ConfigError("TLS options (ca_file, cert_file, key_file, insecure) need mqtts://")
        if self.reconnect_max < self.reconnect_min:
            raise ConfigError("reconnect_max must not be smaller than reconnect_min")

    @classmethod
    def from_url(cls, url: str) -> MqttSettings:
        """Parse ``mqtt://[user[:password]@]host[:port][?option=value&...]`` (or ``mqtts://``).

        Options: ``client_id``, ``protocol`` (5, 3 or auto), ``keepalive``, ``clean_start``,
        ``session_expiry``, ``ca_file``, ``cert_file``, ``key_file``, ``insecure``,
        ``reconnect_min``, ``reconnect_max``. Raises :class:`ConfigError` when malformed.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigError(f"malformed MQTT URL: {exc}") from None
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ConfigError(f"MQTT URL must start with mqtt:// or mqtts://, got {parts.scheme!r}")
        if not parts.hostname:
            raise ConfigError("MQTT URL has no host")
        tls = parts.scheme == "mqtts"
        fields: dict[str, Any] = {
            "host": parts.hostname,
            "port": port or (8883 if tls else 1883),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password is not None else None,
            "tls": tls,
        }
        for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
            if key == "client_id":
                fields[key] = value  # empty: the default, carehub-hub-<hostname>
            elif key in ("ca_file", "cert_file", "key_file"):
                fields[key] = value or None
            elif key == "protocol":
                if value.lower() not in _PROTOCOLS:
                    raise ConfigError(f"MQTT URL option protocol={value!r}: use 5, 3 or auto")
                fields[key] = _PROTOCOLS[value.lower()]
            elif key in ("keepalive", "session_expiry"):
                fields[key] = _parse_number(key, value, int, 0)
            elif key in ("reconnect_min", "reconnect_max"):
                fields[key] = _parse_number(key, value, float, 0.01)
            elif key in ("clean_start", "insecure"):
                fields[key] = _parse_bool(key, value)
            else:
                raise ConfigError(f"unknown MQTT URL option {key!r}")
        return cls(**fields)

    @property
    def url(self) -> str:
        """The broker address for logs: scheme, user, host and port, never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'***' if name == 'password' and value else value!r}"
            for name, value in ((n, getattr(self, n)) for n in self.__dataclass_fields__)
        )
        return f"MqttSettings({shown})"


@dataclass(frozen=True, slots=True)
class Published:
    """Receipt of :meth:`MqttAdapter.publish`; ``done()`` is true once the broker has it."""

    mid: int
    _info: paho.MQTTMessageInfo

    def done(self) -> bool:
        """Whether the message left (QoS 0) or was acknowledged by the broker (QoS 1)."""
        return self._info.is_published()


class MqttAdapter:
    """Receive from and publish to one broker; see the module docstring for the rules.

    Hooks (``on_connect_change``, ``on_drop``) run in the asyncio loop given to
    :meth:`start`. ``subscriptions`` are ``(topic filter, qos)`` pairs; ``birth`` and
    ``will`` are ``(topic, payload)`` pairs, both sent retained with QoS 1.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        subscriptions: list[tuple[str, int]],
        queue_size: int = 10_000,
        birth: tuple[str, bytes] | None = None,
        will: tuple[str, bytes] | None = None,
        manual_ack: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if queue_size < 1:
            raise ConfigError("queue_size must be at least 1")
        self.settings = settings
        self.subscriptions = list(subscriptions)
        self.queue_size = queue_size
        self.birth = birth
        self.will = will
        self.manual_ack = manual_ack
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Inbound] | None = None
        self._pending: deque[Inbound] = deque()
        self._drain_scheduled = False
        self._lock = threading.Lock()  # guards counters written from two threads
        self._client: paho.Client | None = None
        self._protocol: Protocol = settings.protocol
        self._probed = False
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._conn_lost = threading.Event()
        self._reconnect_now = False
        self._connected_event: asyncio.Event | None = None
        self._connect_hooks: list[Callable[[bool], None]] = []
        self._drop_hooks: list[Callable[[int], None]] = []
        self._sub_mids: dict[int, list[str]] = {}
        self.connected = False  # connected and subscribed
        self._up = False  # CONNACK received
        self._ready_mid: int | None = None  # SUBACK that completes a (re)connect
        self.session_epoch = 0
        self.received = 0
        self.dropped = 0
        self.malformed = 0
        self.published = 0
        self.connects = 0
        self.resyncs = 0
        self._unacked_drops = 0
        self._drops_reported = 0
        self._last_drop_log = 0.0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(
        self, loop: asyncio.AbstractEventLoop | None = None, *, wait_connected: float | None = 10.0
    ) -> None:
        """Start the connection thread; wait up to ``wait_connected`` s for the first CONNACK.

        Raises :class:`BrokerError` if the broker is not reached in time (the adapter is
        stopped again); with ``wait_connected=None`` it keeps trying in the background.
        """
        if self._supervisor is not None:
            raise BrokerError("MQTT adapter already started")
        self._loop = loop or asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=self.queue_size)
        self._connected_event = asyncio.Event()
        self._stopping.clear()
        self._client = self._make_client(self._protocol)
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"mqtt-{self.settings.client_id}", daemon=True
        )
        self._supervisor.start()
        if wait_connected is None:
            return
        try:
            await asyncio.wait_for(self._connected_event.wait(), wait_connected)
        except TimeoutError:
            await self.stop()
            raise BrokerError(
                f"could not connect to the MQTT broker at {self.settings.url} "
                f"within {wait_connected:g} s"
            ) from None

    async def stop(self, grace: float = 10.0) -> None:
        """Disconnect cleanly (no Last Will) and end the connection thread."""
        self._stopping.set()
        client, supervisor = self._client, self._supervisor
        if client is not None:
            client.disconnect()
        self._conn_lost.set()
        if supervisor is not None:
            await asyncio.to_thread(supervisor.join, grace)
        self._supervisor = None

    def abort_connection(self) -> None:
        """Drop the TCP connection without a DISCONNECT, as a crash would.

        The broker then publishes the Last Will; the adapter reconnects as after any outage.
        For tests and drills.
        """
        client = self._client
        sock = client.socket() if client is not None else None
        if isinstance(sock, socket.socket):  # also an ssl.SSLSocket
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                log.debug("abort_connection: %s", exc)

    # -- consuming ---------------------------------------------------------------------------

    async def get(self) -> Inbound:
        """Wait for the next message."""
        queue = self._queue
        if queue is None:
            raise BrokerError("MQTT adapter not started")
        while queue.empty() and self._unacked_drops:
            # Caught up with drops outstanding: have them redelivered. Poll, because the
            # reconnect may be refused for now (e.g. while a connect is in progress).
            self._resync_if_caught_up()
            try:
                async with asyncio.timeout(_RESYNC_POLL):
                    return await queue.get()
            except TimeoutError:
                continue
        return await queue.get()

    async def get_batch(self, max_items: int = 500) -> list[Inbound]:
        """Wait for at least one message, then take what is queued, up to ``max_items``."""
        batch = [await self.get()]
        assert self._queue is not None
        while len(batch) < max_items and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    def __aiter__(self) -> MqttAdapter:
        return self

    async def __anext__(self) -> Inbound:
        return await self.get()

    def ack(self, message: Inbound) -> bool:
        """Acknowledge a QoS 1/2 message once it is safely stored; safe from any thread.

        Returns whether an acknowledgement was sent. Nothing is sent for QoS 0, without
        ``manual_ack``, for a message of a discarded broker session, or while disconnected
        (the broker redelivers after the reconnect, so the message is not lost).
        """
        client = self._client
        if (
            not self.manual_ack
            or message.qos == 0
            or client is None
            or message.session_epoch != self.session_epoch
        ):
            return False
        try:
            return client.ack(message.mid, message.qos) == MQTTErrorCode.MQTT_ERR_SUCCESS
        except (OSError, ValueError) as exc:
            log.debug("ack of mid %s failed: %s", message.mid, exc)
            return False

    # -- publishing --------------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> Published:
        """Queue a message for the broker without waiting for the network.

        QoS 1 messages published while disconnected are sent after the reconnect; a QoS 0
        message while disconnected, an invalid topic or a full outgoing queue raise
        :class:`BrokerError`.
        """
        client = self._client
        if client is None:
            raise BrokerError("MQTT adapter not started")
        try:
            info = client.publish(topic, payload, qos=qos, retain=retain)
        except (ValueError, TypeError, OSError) as exc:
            raise BrokerError(f"cannot publish to {topic!r}: {exc}") from exc
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN) or (
            info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and qos == 0
        ):
            raise BrokerError(f"cannot publish to {topic!r}: {paho.error_string(info.rc)}")
        with self._lock:
            self.published += 1
        return Published(info.mid, info)

    # -- health ------------------------------------------------------------------------------

    def on_connect_change(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(connected)`` in the event loop whenever the connection changes."""
        self._connect_hooks.append(callback)

    def on_drop(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(n)`` in the event loop when ``n`` more messages were dropped."""
        self._drop_hooks.append(callback)

    @property
    def protocol(self) -> str | None:
        """The MQTT version in use ("5" or "3.1.1"), ``None`` before the first connect."""
        if not self.connects:
            return None
        return "5" if self._protocol == 5 else "3.1.1"

    def stats(self) -> dict[str, Any]:
        """Counters for health and metrics pages."""
        return {
            "received": self.received,
            "dropped": self.dropped,
            "malformed": self.malformed,
            "queue_depth": (self._queue.qsize() if self._queue else 0) + len(self._pending),
            "published": self.published,
            "connects": self.connects,
            "resyncs": self.resyncs,
            "connected": self.connected,
            "protocol": self.protocol,
        }

    # -- connection thread -------------------------------------------------------------------

    def _make_client(self, protocol: Protocol) -> paho.Client:
        s = self.settings
        v5 = protocol == 5
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            clean_session=None if v5 else s.clean_start,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            reconnect_on_failure=False,  # the reconnect loop is ours (_supervise)
            manual_ack=self.manual_ack,
        )
        self._set_credentials(client)
        if self.will is not None:
            client.will_set(self.will[0], self.will[1], qos=1, retain=True)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(10_000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _set_credentials(self, client: paho.Client) -> None:
        s = self.settings
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            try:
                client.tls_set(ca_certs=s.ca_file, certfile=s.cert_file, keyfile=s.key_file)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"MQTT TLS settings unusable: {exc}") from exc
            client.tls_insecure_set(s.insecure)

    def _speaks_mqtt5(self) -> bool:
        """Ask the broker, on a throwaway connection, whether it accepts MQTT 5.

        Why a probe: amqtt misreads an MQTT 5 CONNECT that carries properties (the session
        expiry we need) and then waits for bytes that never come, instead of refusing it.
        A bare CONNECT on a separate client id it refuses at once, and the hub's own
        session is not disturbed. Raises OSError when the broker is unreachable or silent.
        """
        s = self.settings
        probe = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{s.client_id}-probe",
            protocol=paho.MQTTv5,
            reconnect_on_failure=False,
        )
        self._set_credentials(probe)
        answer: list[ReasonCode] = []
        probe.on_connect = lambda _c, _u, _f, reason, _p: answer.append(reason)
        probe.connect(s.host, s.port, s.keepalive, clean_start=True)
        deadline = time.monotonic() + _PROBE_TIMEOUT
        try:
            while not answer and time.monotonic() < deadline and not self._stopping.is_set():
                if probe.loop(0.2) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
        finally:
            probe.disconnect()
        if not answer:
            raise OSError("no CONNACK from the broker")
        return answer[0].value not in _UNSUPPORTED_PROTOCOL

    def _supervise(self) -> None:
        """Connect, wait for the connection to end, back off, repeat until stopped."""
        attempt = 0
        outage_logged = False
        while not self._stopping.is_set():
            client = self._client
            assert client is not None
            self._conn_lost.clear()
            self._reconnect_now = False
            connects_before = self.connects
            try:
                if self._protocol == 5 and not self._probed:
                    if not self._speaks_mqtt5():
                        log.info("broker %s refused MQTT 5; using MQTT 3.1.1", self.settings.url)
                        self._protocol = 3
                        self._client = client = self._make_client(3)
                    self._probed = True
                self._connect(client)
            except (OSError, ValueError) as exc:
                if not outage_logged:
                    log.warning("MQTT broker %s unreachable (%s); retrying", self.settings.url, exc)
                    outage_logged = True
            else:
                # paho 2.2's loop_start() replaces its wake-up socket pair without closing
                # the previous one (a leaked pair per reconnect): close it first.
                client._reset_sockets(sockpair_only=True)
                client.loop_start()
                while not self._conn_lost.wait(1.0):
                    if getattr(client, "_thread", None) is None:  # network thread ended
                        break
                # AttributeError: paho's thread cleared itself while we joined it
                with contextlib.suppress(AttributeError):
                    client.loop_stop()
            if self.connects > connects_before:
                attempt, outage_logged = 0, False
            if self._reconnect_now and not self._stopping.is_set():
                continue
            delay = min(self.settings.reconnect_max, self.settings.reconnect_min * 2**attempt)
            attempt += 1
            self._stopping.wait(random.uniform(delay / 2, delay))  # noqa: S311 - jitter only

    def _connect(self, client: paho.Client) -> None:
        s = self.settings
        if self._protocol == 5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 0 if s.clean_start else s.session_expiry
            client.connect(s.host, s.port, s.keepalive, clean_start=s.clean_start, properties=props)
        else:
            client.connect(s.host, s.port, s.keepalive)

    def _on_connect(
        self, client: paho.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            if self._protocol == 5 and reason.value in _UNSUPPORTED_PROTOCOL:
                log.info("broker %s refused MQTT 5; using MQTT 3.1.1", self.settings.url)
                self._protocol = 3
                self._client = self._make_client(3)
                self._reconnect_now = True
            else:
                log.warning("broker %s refused the connection: %s", self.settings.url, reason)
            return
        if not flags.session_present:
            self.session_epoch += 1  # acks for the old session's messages are now void
        self._up = True
        log.info(
            "connected to MQTT broker %s (MQTT %s, session present: %s)",
            self.settings.url,
            "5" if self._protocol == 5 else "3.1.1",
            flags.session_present,
        )
        self._ready_mid = None
        if self.subscriptions:
            topics: list[tuple[str, Any]] = [
                (t, SubscribeOptions(qos=q, noLocal=not t.startswith("$share/")))
                if self._protocol == 5
                else (t, q)
                for t, q in self.subscriptions
            ]
            rc, mid = client.subscribe(topics)
            if mid is None:  # the connection is already gone; the next connect retries
                log.warning("could not subscribe: %s", paho.error_string(rc))
                return
            self._sub_mids[mid] = [t for t, _ in self.subscriptions]
            self._ready_mid = mid
        if self.birth is not None:
            client.publish(self.birth[0], self.birth[1], qos=1, retain=True)
        if self._ready_mid is None:
            self._mark_ready()

    def _mark_ready(self) -> None:
        # "Connected" means subscribed too: a message published right after start() returns
        # must not race the SUBSCRIBE.
        self.connects += 1
        self.connected = True
        self._notify_connect(True)

    def _on_disconnect(
        self, _c: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any
    ) -> None:
        was_up, self._up = self._up, False
        was_connected, self.connected = self.connected, False
        self._conn_lost.set()
        if was_up and not self._stopping.is_set() and not self._reconnect_now:
            log.warning("lost MQTT broker %s: %s; reconnecting", self.settings.url, reason)
        if was_connected:
            self._notify_connect(False)

    def _on_subscribe(
        self, _c: paho.Client, _u: Any, mid: int, codes: list[ReasonCode], _p: Any
    ) -> None:
        topics = self._sub_mids.pop(mid, [])
        for topic, code in zip(topics, codes, strict=False):
            if code.is_failure:
                log.warning("broker refused subscription to %r: %s", topic, code)
        if mid == self._ready_mid:
            self._ready_mid = None
            self._mark_ready()

    def _on_message(self, client: paho.Client, _u: Any, msg: paho.MQTTMessage) -> None:
        # Runs in paho's network thread: cheap work only, never block, never raise.
        self.received += 1
        try:
            item = Inbound(
                topic=msg.topic,
                payload=bytes(msg.payload),
                qos=msg.qos,
                retain=msg.retain,
                received_at=self._clock(),
                mid=msg.mid,
                dup=bool(msg.dup),
                session_epoch=self.session_epoch,
            )
        except (UnicodeDecodeError, TypeError, ValueError) as exc:
            self.malformed += 1
            log.warning("skipped a malformed MQTT message: %s", exc)
            if self.manual_ack and msg.qos:
                client.ack(msg.mid, msg.qos)  # redelivering it would not make it readable
            return
        queue = self._queue
        if queue is not None and len(self._pending) + queue.qsize() < self.queue_size:
            self._pending.append(item)
        else:
            self._count_drop(item)
        if not self._drain_scheduled and self._loop is not None:
            self._drain_scheduled = True
            try:
                self._loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the event loop is closed: we are shutting down
                self._drain_scheduled = False

    def _count_drop(self, item: Inbound) -> None:
        with self._lock:
            self.dropped += 1
            if self.manual_ack and item.qos > 0:
                self._unacked_drops += 1

    # -- event-loop side ---------------------------------------------------------------------

    def _drain(self) -> None:
        # Clear the flag before draining so a message appended meanwhile schedules a new drain.
        self._drain_scheduled = False
        queue = self._queue
        assert queue is not None
        pending = self._pending
        while pending:
            item = pending.popleft()
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                self._count_drop(item)
        new_drops = self.dropped - self._drops_reported
        if new_drops:
            self._drops_reported += new_drops
            now = time.monotonic()
            if now - self._last_drop_log >= _DROP_LOG_INTERVAL:
                self._last_drop_log = now
                log.warning(
                    "MQTT queue full (%d): %d messages dropped so far",
                    self.queue_size,
                    self.dropped,
                )
            for hook in self._drop_hooks:
                self._run_hook(hook, new_drops)

    def _resync_if_caught_up(self) -> None:
        # Unacknowledged drops hold the broker's in-flight window; once we have caught up,
        # reconnect (clean DISCONNECT, so no Will) and the broker redelivers them.
        client = self._client
        if client is None or not self._up or self._reconnect_now:
            return
        with self._lock:
            lost, self._unacked_drops = self._unacked_drops, 0
        self.resyncs += 1
        log.info("reconnecting so the broker redelivers %d unacknowledged messages", lost)
        self._reconnect_now = True
        client.disconnect()

    def _notify_connect(self, connected: bool) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
            loop.call_soon_threadsafe(self._connect_changed, connected)

    def _connect_changed(self, connected: bool) -> None:
        if connected and self._connected_event is not None:
            self._connected_event.set()
        for hook in self._connect_hooks:
            self._run_hook(hook, connected)

    @staticmethod
    def _run_hook(hook: Callable[[Any], None], arg: object) -> None:
        try:
            hook(arg)
        except Exception:
            log.exception("MQTT adapter hook %r failed", hook)


__all__ = ["Inbound", "MqttAdapter", "MqttSettings", "Published"]
