"""The hub's MQTT adapter: the only module of the hub that imports paho.

What crosses into our code is an :class:`Inbound` (a frozen dataclass) in one bounded
:class:`asyncio.Queue`::

    settings = MqttSettings.from_url("mqtt://hub:secret@broker:1883?client_id=hub-1")
    adapter = MqttAdapter(settings, subscriptions=[("carehub/v1/devices/+/+", 1)])
    await adapter.start()
    msg = await adapter.get()
    ...                      # store it, commit
    adapter.ack(msg)         # only now does the broker forget a QoS 1 message
    await adapter.stop()

Rules this module keeps (it is the hub's one adapter to the broker):

- paho's network I/O runs in the asyncio event loop (:mod:`hub.mqtt.loop`), not in a
  thread of its own, and reads the socket in large chunks (:class:`_Client`); plain
  PUBLISH packets are decoded by a short path of the client and everything else by paho,
  and each message goes straight into the queue (:mod:`hub.mqtt.inbox`). Only the
  blocking TCP/TLS connect goes to an executor thread. Why: with a network thread,
  every ``recv()`` handed the GIL to the ingest code and waited to get it back; measured
  with ``bench/ingest.py``, the adapter alone received at 0.2–0.25× the rate of a bare
  paho subscriber, and at 0.55–0.6× driven from the loop.
- When the queue is full a message is **dropped and counted** (``dropped``, the
  ``on_drop`` hooks, a rate-limited warning), never waited for. With ``manual_ack`` a
  dropped QoS 1 message is **not acknowledged**: once the consumer has caught up the adapter
  reconnects (clean DISCONNECT, no Last Will) so the broker redelivers everything
  unacknowledged; with a persistent session nothing is lost. Without ``manual_ack`` paho
  acknowledges on receipt and a dropped QoS 1 message is lost (it is still counted).
- Acknowledgement is manual by default: paho acknowledges a QoS 1 message when
  ``on_message`` returns, before anything reached the store, so we call
  ``ack`` after the commit instead. The hub then asks the broker (MQTT 5 Receive Maximum,
  :attr:`MqttAdapter.receive_maximum`) for an in-flight window as large as its queue; the
  broker keeps the rest in the session while the store is slow or down. Delivery is at
  least once: duplicates are possible after a reconnect and the store drops them (same
  device and ``seq``).
- The reconnect loop is ours (an asyncio task, :mod:`hub.mqtt.link`); every connect
  re-subscribes and republishes the birth message. MQTT 5 is tried first and, when
  the broker refuses it (amqtt speaks 3.1.1 only), the adapter falls back to 3.1.1 once.
- paho errors become :class:`hub.errors.BrokerError` (or ``ConfigError`` for settings);
  a bad message is logged, counted and skipped, never raised into a loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.contract import limits
from hub.errors import BrokerError, ConfigError
from hub.mqtt.inbox import Inbound, Inbox, run_hook
from hub.mqtt.link import Link
from hub.mqtt.loop import LoopDriver, call_in_loop
from hub.mqtt.settings import MqttSettings, Protocol

log = logging.getLogger(__name__)

_UNSUPPORTED_PROTOCOL = (0x84, 0x01)  # MQTT 5 reason code / MQTT 3.1.1 CONNACK return code
_PROBE_TIMEOUT = 10.0  # seconds to wait for the CONNACK of the MQTT 5 probe
_CALL_TIMEOUT = 10.0  # seconds another thread waits for the event loop to take a publish
_READ_CHUNK = 65_536  # bytes asked of the socket at once
_OUT_QUEUE = 10_000  # QoS 1 messages paho holds for the broker (in flight and waiting)
_DROPPABLE_SHARE = 0.5
"""Share of that queue droppable messages (error reports) may fill: the rest stays free for
commands to devices, which must never be refused because the hub is busy answering a flood."""


class _Client(paho.Client):
    """paho's client, reading its socket in large chunks.

    paho asks the socket for each packet's fixed header and body separately (three or four
    ``recv()`` calls per message). Here one ``recv()`` takes what the kernel holds and the
    small reads are served from memory: fewer system calls and, above all, fewer points
    where the event loop's thread lets go of the GIL to the store's writer thread and then
    waits up to the switch interval to get it back. :meth:`buffered` tells
    :class:`~hub.mqtt.loop.LoopDriver` that bytes are waiting that the selector cannot see.
    (paho 2.x reads only through ``_sock_recv``; were that to change, the client would just
    read unbuffered.)

    Whole PUBLISH packets found in that buffer take a short path (:meth:`_packet_read`):
    QoS 0 or 1, a UTF-8 topic and, under MQTT 5, no properties, which is every message the
    device contract allows. They are cut out of the buffer and handed to ``publish_sink``
    without paho's per-packet bookkeeping (its state dictionary, a ``Properties`` and an
    ``MQTTMessage`` object, the topic-filter matcher): that bookkeeping was about half of
    paho's time per message (profiled with ``bench/ingest.py``). Everything else (other
    packet types, QoS 2, properties, a packet not wholly read yet) goes through paho as
    before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rdata = b""
        self._rpos = 0
        self._rsock: object = None  # the socket _rdata came from
        self.publish_sink: PublishSink | None = None

    def outgoing(self) -> int:
        """QoS 1 messages paho holds for the broker: in flight or waiting to be sent."""
        return len(self._out_messages)

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not consumed yet."""
        return len(self._rdata) - self._rpos if self._rsock is self._sock else 0

    def _sock_recv(self, bufsize: int) -> bytes:
        data, pos = self._rdata, self._rpos
        if pos >= len(data) or self._rsock is not self._sock:  # empty, or another connection
            data = super()._sock_recv(_READ_CHUNK)  # BlockingIOError when there is nothing
            self._rsock = self._sock
            if len(data) <= bufsize:  # also b"" at the end of the stream
                self._rdata, self._rpos = b"", 0
                return data
            pos = 0
            self._rdata = data
        chunk = data[pos : pos + bufsize]
        self._rpos = pos + len(chunk)
        return chunk

    def _fill(self) -> bool:
        """Whether bytes are buffered, reading what the kernel holds when none are. A read
        that fails or finds the end of the stream is left to paho's path, which reads again
        and reports it (both are sticky)."""
        if self._rpos < len(self._rdata) and self._rsock is self._sock:
            return True
        try:
            data = super()._sock_recv(_READ_CHUNK)
        except OSError:  # BlockingIOError too: nothing there yet
            return False
        self._rdata, self._rpos, self._rsock = data, 0, self._sock
        return bool(data)

    def _packet_read(self) -> MQTTErrorCode:
        sink = self.publish_sink
        if sink is None or self._in_packet["command"] or not self._fill():
            return super()._packet_read()  # paho is inside a packet, or nothing to read
        data, pos = self._rdata, self._rpos
        v5 = self._protocol == paho.MQTTv5
        taken = 0
        while taken < _SHORT_PATH_RUN and (packet := _plain_publish(data, pos, v5)) is not None:
            pos, topic, payload, qos, retain, mid, dup = packet
            self._rpos = pos  # consumed before the sink runs: it must never see it twice
            taken += 1
            sink(topic, payload, qos, retain, mid, dup)
            if qos and not self._manual_ack:
                self._send_puback(mid)
        if not taken:
            return super()._packet_read()
        with self._msgtime_mutex:
            self._last_bytes_received = paho.time_func()  # the keep-alive clock paho reads
        return MQTTErrorCode.MQTT_ERR_SUCCESS


PublishSink = Callable[[str, bytes, int, bool, int, bool], None]
"""Receives (topic, payload, qos, retain, mid, dup) of a PUBLISH taken by the short path."""

_SHORT_PATH_RUN = 256  # PUBLISH packets taken from the buffer in one call of _packet_read


def _remaining_length(data: bytes, i: int) -> tuple[int, int] | None:
    """Where the packet's body starts and ends, from its remaining length (a variable byte
    integer of at most four bytes at ``i``); None when not all of it has arrived or it is
    invalid."""
    length, shift, end = 0, 0, len(data)
    while i < end and shift <= 21:
        byte = data[i]
        length |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return (i, i + length) if i + length <= end else None
        shift += 7
    return None


def _plain_publish(
    data: bytes, pos: int, v5: bool
) -> tuple[int, str, bytes, int, bool, int, bool] | None:
    """The PUBLISH packet wholly held in ``data`` at ``pos`` as (end, topic, payload, qos,
    retain, mid, dup), or None when it is anything else or anything unusual: not a PUBLISH,
    not all there yet, QoS 2 (or the invalid 3), a topic that is empty or not UTF-8, MQTT 5
    properties. paho handles those.

    >>> _plain_publish(bytes([0x32, 11, 0, 3]) + b"a/b" + bytes([0, 7, 0]) + b"{}x", 0, True)
    (13, 'a/b', b'{}x', 1, False, 7, False)
    >>> _plain_publish(bytes([0x30, 5, 0, 3]) + b"a/b", 0, False)  # the payload may be empty
    (7, 'a/b', b'', 0, False, 0, False)
    >>> _plain_publish(bytes([0x30, 6, 0, 3]) + b"a/b", 0, False) is None  # one byte missing
    True
    """
    end = len(data)
    header = data[pos] if pos < end else 0
    qos = (header >> 1) & 3
    body = _remaining_length(data, pos + 1) if header >> 4 == 3 and qos < 2 else None
    if body is None:
        return None
    i, stop = body
    tlen = (data[i] << 8) | data[i + 1] if i + 2 <= stop else 0
    at = i + 2 + tlen
    mid = (data[at] << 8) | data[at + 1] if qos and at + 2 <= stop else 0
    at += 2 * qos
    # property length, MQTT 5 only: only a message without properties is plain
    if tlen == 0 or at + v5 > stop or stop > end or (v5 and data[at]):
        return None
    try:
        topic = data[i + 2 : i + 2 + tlen].decode()
    except UnicodeDecodeError:
        return None
    at += v5
    return stop, topic, data[at:stop], qos, bool(header & 1), mid, bool(header & 8)


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

    Everything runs in the event loop that :meth:`start` runs in, hooks
    (``on_connect_change``, ``on_drop``) included. ``subscriptions`` are
    ``(topic filter, qos)`` pairs; ``birth`` and ``will`` are ``(topic, payload)`` pairs,
    both sent retained with QoS 1.
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
        self._loop_thread = 0
        self._inbox = Inbox(queue_size, resync=self._resync_if_caught_up)
        self._client: _Client | None = None
        self._driver: LoopDriver | None = None
        self._protocol: Protocol = settings.protocol
        self._probed = False
        self._link = Link(settings.url, settings.reconnect_min, settings.reconnect_max)
        self._connected_event = asyncio.Event()
        self._connect_hooks: list[Callable[[bool], None]] = []
        self._sub_mids: dict[int, list[str]] = {}
        self.connected = False  # connected and subscribed
        self._up = False  # CONNACK received
        self._ready_mid: int | None = None  # SUBACK that completes a (re)connect
        self.session_epoch = 0
        self.received = 0
        self.malformed = 0
        self.published = 0
        self.connects = 0
        self.resyncs = 0
        self.reports_dropped = 0

    @property
    def receive_maximum(self) -> int:
        """The in-flight window asked of the broker (MQTT 5 Receive Maximum): QoS 1 messages
        it may send before the hub acknowledges one, never more than the queue holds; the
        broker keeps the rest in the hub's session (Mosquitto: ``max_queued_messages``).
        Without it Mosquitto sends 20 at a time. Mosquitto 2.0 keeps to it only until
        acknowledgements flow, so the queue may still overflow: a dropped QoS 1 message is
        then fetched again by a reconnect (see above)."""
        return min(self.queue_size, 65_535)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(
        self, loop: asyncio.AbstractEventLoop | None = None, *, wait_connected: float | None = 10.0
    ) -> None:
        """Start connecting; wait up to ``wait_connected`` s until connected and subscribed.

        ``loop``, if given, must be the running loop (the adapter lives in it). Raises
        :class:`BrokerError` if the broker is not reached in time (the adapter is stopped
        again); with ``wait_connected=None`` it keeps trying in the background.
        """
        if self._link.running:
            raise BrokerError("MQTT adapter already started")
        running = asyncio.get_running_loop()
        if loop is not None and loop is not running:
            raise ConfigError("MqttAdapter.start() needs the running event loop")
        self._loop, self._loop_thread = running, threading.get_ident()
        self._inbox.open()
        self._connected_event = asyncio.Event()
        self._client = self._make_client(self._protocol)
        self._link.start(self._attempt, lambda: self.connects)
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
        """Disconnect cleanly (no Last Will) and end the connection task."""
        await self._link.stop(grace, goodbye=self._say_goodbye)
        if self._driver is not None:
            self._driver.close()

    def _say_goodbye(self) -> bool:
        client = self._client
        if client is None or client.socket() is None:
            return False
        client.disconnect()  # written by the event loop; paho then closes the socket
        return True

    def abort_connection(self) -> None:
        """Drop the TCP connection without a DISCONNECT, as a crash would.

        The broker then publishes the Last Will; the adapter reconnects as after any outage.
        For tests and drills.
        """
        if self._driver is not None:
            self._driver.abort()

    # -- consuming ---------------------------------------------------------------------------

    async def get(self) -> Inbound:
        """Wait for the next message."""
        return await self._inbox.get()

    async def get_batch(self, max_items: int = 500) -> list[Inbound]:
        """Wait for at least one message, then take what is queued, up to ``max_items``."""
        return await self._inbox.get_batch(max_items)

    def oldest_waiting(self) -> float | None:
        """Receive time of the oldest received message not yet taken, if any."""
        return self._inbox.oldest_waiting()

    def __aiter__(self) -> MqttAdapter:
        return self

    async def __anext__(self) -> Inbound:
        return await self.get()

    def ack(self, message: Inbound) -> bool:
        """Acknowledge a QoS 1/2 message once it is safely stored.

        Returns whether an acknowledgement was sent. Nothing is sent for QoS 0, without
        ``manual_ack``, for a message of a discarded broker session, or while disconnected
        (the broker redelivers after the reconnect, so the message is not lost). Safe from
        any thread: from another thread the acknowledgement is handed to the event loop and
        the result says whether it was handed over.
        """
        if (
            not self.manual_ack
            or message.qos == 0
            or self._client is None
            or message.session_epoch != self.session_epoch
        ):
            return False
        if threading.get_ident() == self._loop_thread:
            return self._send_ack(message)
        try:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._send_ack, message)
        except RuntimeError:  # the event loop is closed
            return False
        return True

    def _send_ack(self, message: Inbound) -> bool:
        client = self._client
        # Only while connected: a PUBACK queued during a reconnect would precede CONNECT.
        if client is None or not self._up or message.session_epoch != self.session_epoch:
            return False
        try:
            return client.ack(message.mid, message.qos) == MQTTErrorCode.MQTT_ERR_SUCCESS
        except (OSError, ValueError) as exc:
            log.debug("ack of mid %s failed: %s", message.mid, exc)
            return False

    # -- publishing --------------------------------------------------------------------------

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False,
        *, droppable: bool = False,
    ) -> Published | None:  # fmt: skip
        """Queue a message for the broker without waiting for the network.

        QoS 1 messages published while disconnected are sent after the reconnect; a QoS 0
        message while disconnected, an invalid topic or a full outgoing queue raise
        :class:`BrokerError`. From another thread the call waits (briefly) for the event
        loop to take the message.

        A ``droppable`` message (an error report to a device) is dropped instead, counted
        in ``reports_dropped`` and ``None`` returned, while disconnected or when it would
        take more than its share of the outgoing queue: commands to devices never wait
        behind, or are refused for, error reports.
        """
        if self._client is None:
            raise BrokerError("MQTT adapter not started")
        if threading.get_ident() == self._loop_thread:
            return self._publish(topic, payload, qos, retain, droppable)
        assert self._loop is not None
        try:
            publish = functools.partial(self._publish, topic, payload, qos, retain, droppable)
            return call_in_loop(self._loop, publish, _CALL_TIMEOUT)
        except RuntimeError:
            raise BrokerError("MQTT adapter stopped: its event loop is closed") from None
        except TimeoutError:
            raise BrokerError(f"the event loop did not take {topic!r} in time") from None

    def _publish(
        self, topic: str, payload: bytes, qos: int, retain: bool, droppable: bool = False
    ) -> Published | None:
        client = self._client
        assert client is not None
        if droppable and (not self._up or client.outgoing() >= _OUT_QUEUE * _DROPPABLE_SHARE):
            self.reports_dropped += 1
            return None
        try:
            info = client.publish(topic, payload, qos=qos, retain=retain)
        except (ValueError, TypeError, OSError) as exc:
            raise BrokerError(f"cannot publish to {topic!r}: {exc}") from exc
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN) or (
            info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and qos == 0
        ):
            raise BrokerError(f"cannot publish to {topic!r}: {paho.error_string(info.rc)}")
        self.published += 1
        return Published(info.mid, info)

    # -- health ------------------------------------------------------------------------------

    def on_connect_change(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(connected)`` in the event loop whenever the connection changes."""
        self._connect_hooks.append(callback)

    def on_drop(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(n)`` in the event loop when ``n`` more messages were dropped."""
        self._inbox.hooks.append(callback)

    @property
    def dropped(self) -> int:
        """Messages dropped because the queue was full."""
        return self._inbox.dropped

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
            "queue_depth": self._inbox.depth,
            "published": self.published,
            "connects": self.connects,
            "resyncs": self.resyncs,
            "reports_dropped": self.reports_dropped,
            "connected": self.connected,
            "protocol": self.protocol,
        }

    # -- connection task ---------------------------------------------------------------------

    def _make_client(self, protocol: Protocol) -> _Client:
        s = self.settings
        v5 = protocol == 5
        client = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            clean_session=None if v5 else s.clean_start,
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
            reconnect_on_failure=False,  # the reconnect loop is ours (hub.mqtt.link)
            manual_ack=self.manual_ack,
        )
        self._set_credentials(client)
        if self.will is not None:
            client.will_set(self.will[0], self.will[1], qos=1, retain=True)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(_OUT_QUEUE)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.publish_sink = self._on_publish
        client.on_subscribe = self._on_subscribe
        return client

    def _set_credentials(self, client: paho.Client) -> None:
        s = self.settings
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set_context(s.ssl_context())  # a fresh one: paho may change it

    async def _speaks_mqtt5(self) -> bool:
        """Ask the broker, on a throwaway connection, whether it accepts MQTT 5.

        Why a probe: amqtt misreads an MQTT 5 CONNECT that carries properties (the session
        expiry we need) and then waits for bytes that never come, instead of refusing it.
        A bare CONNECT on a separate client id it refuses at once, and the hub's own
        session is not disturbed. Raises OSError when the broker is unreachable or silent.
        """
        assert self._loop is not None
        s = self.settings
        probe = _Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{s.client_id}-probe",
            protocol=paho.MQTTv5,
            reconnect_on_failure=False,
        )
        self._set_credentials(probe)
        answer: asyncio.Future[ReasonCode] = self._loop.create_future()

        def on_connect(_c: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
            if not answer.done():
                answer.set_result(reason)

        def on_closed(*_args: Any) -> None:
            if not answer.done():
                answer.set_exception(OSError("the broker closed the connection unanswered"))

        probe.on_connect = on_connect
        probe.on_disconnect = on_closed
        driver = LoopDriver(self._loop, probe, on_failure=on_closed)
        connect = functools.partial(probe.connect, s.host, s.port, s.keepalive, clean_start=True)
        opened = False
        try:
            await self._link.blocking(connect)
            opened = True
            async with asyncio.timeout(_PROBE_TIMEOUT):
                reason = await answer
        except TimeoutError:
            raise OSError("no CONNACK from the broker") from None
        finally:
            if not answer.done():
                answer.cancel()  # nothing may set it any more
            elif not answer.cancelled():
                answer.exception()  # mark an unawaited failure as seen (no asyncio warning)
            if opened and probe.socket() is not None:
                probe.disconnect()
                probe.loop_write()  # the DISCONNECT, non-blocking; paho then closes the socket
            driver.close()  # closes whatever is left, even a socket from a connect cut short
        return reason.value not in _UNSUPPORTED_PROTOCOL

    async def _attempt(self) -> LoopDriver:
        """One connection attempt for :class:`~hub.mqtt.link.Link` (probing MQTT 5 first)."""
        assert self._loop is not None
        if self._protocol == 5 and not self._probed:
            if not await self._speaks_mqtt5():
                log.info("broker %s refused MQTT 5; using MQTT 3.1.1", self.settings.url)
                self._protocol = 3
                self._client = self._make_client(3)
            self._probed = True
        client = self._client
        assert client is not None
        driver = self._driver
        if driver is None or driver.client is not client:  # first, or after the fallback
            if driver is not None:
                driver.close()
            driver = self._driver = LoopDriver(self._loop, client, on_failure=self._io_failed)
        await self._link.blocking(functools.partial(self._connect, client))
        return driver

    def _connect(self, client: _Client) -> None:
        # Runs in an executor thread: blocks for the TCP (and TLS) handshake, then queues
        # CONNECT; the event loop writes it and reads the CONNACK.
        s = self.settings
        if self._protocol == 5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 0 if s.clean_start else s.session_expiry
            # the broker drops larger messages for the hub instead of sending them
            props.MaximumPacketSize = limits.MAX_PACKET_BYTES
            if self.manual_ack:
                props.ReceiveMaximum = self.receive_maximum
            client.connect(s.host, s.port, s.keepalive, clean_start=s.clean_start, properties=props)
        else:
            client.connect(s.host, s.port, s.keepalive)

    # -- paho callbacks (event loop thread, inside loop_read/loop_write/loop_misc) ----------

    def _on_connect(
        self, client: paho.Client, _u: Any, flags: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            if self._protocol == 5 and reason.value in _UNSUPPORTED_PROTOCOL:
                log.info("broker %s refused MQTT 5; using MQTT 3.1.1", self.settings.url)
                self._protocol = 3
                self._client = self._make_client(3)
                self._link.reconnect_now = True
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
        self._connection_ended(reason)

    def _io_failed(self) -> None:
        self._connection_ended("network I/O failed")

    def _connection_ended(self, reason: object) -> None:
        was_up, self._up = self._up, False
        was_connected, self.connected = self.connected, False
        self._link.lost()
        if was_up and not self._link.stopping and not self._link.reconnect_now:
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
        # Called once per message inside loop_read() for what the client's short path left
        # to paho: cheap work only, never block or raise.
        try:
            topic = msg.topic
        except (UnicodeDecodeError, TypeError, ValueError) as exc:
            self.received += 1
            self.malformed += 1
            log.warning("skipped a malformed MQTT message: %s", exc)
            if self.manual_ack and msg.qos:
                client.ack(msg.mid, msg.qos)  # redelivering it would not make it readable
            return
        self._on_publish(topic, bytes(msg.payload), msg.qos, msg.retain, msg.mid, bool(msg.dup))

    def _on_publish(
        self, topic: str, payload: bytes, qos: int, retain: bool, mid: int, dup: bool
    ) -> None:
        # Every message, from the client's short path or from _on_message.
        self.received += 1
        item = Inbound(topic, payload, qos, retain, self._clock(), mid, dup, self.session_epoch)
        self._inbox.put(item, acked=not self.manual_ack or qos == 0)

    # -- event-loop side ---------------------------------------------------------------------

    def _resync_if_caught_up(self) -> None:
        # Unacknowledged drops hold the broker's in-flight window; once we have caught up,
        # reconnect (clean DISCONNECT, so no Will) and the broker redelivers them.
        client = self._client
        if client is None or not self._up or self._link.reconnect_now:
            return
        lost = self._inbox.take_unacked_drops()
        self.resyncs += 1
        log.info("reconnecting so the broker redelivers %d unacknowledged messages", lost)
        self._link.reconnect_now = True
        client.disconnect()

    def _notify_connect(self, connected: bool) -> None:
        # Hooks run after paho's callback has returned, not inside it.
        if self._loop is not None:
            self._loop.call_soon(self._connect_changed, connected)

    def _connect_changed(self, connected: bool) -> None:
        if connected:
            self._connected_event.set()
        for hook in self._connect_hooks:
            run_hook(hook, connected)


__all__ = ["Inbound", "MqttAdapter", "MqttSettings", "Published"]
