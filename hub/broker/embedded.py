"""The embedded MQTT broker (amqtt) for ``carehub serve`` without settings, the demo and tests.

amqtt 0.12.1 speaks MQTT 3.1.1 only (the adapter falls back to it), relays retained
messages and the Last Will, and must be created inside a running asyncio loop. Its default
plugins, the ``$SYS`` statistics above all, halve its throughput, so we pass an explicit
plugin list: anonymous access only. Production uses Mosquitto or
EMQX.

amqtt has no packet size limit of its own and reads a whole packet into memory before anything
can look at it (one 100 MB publish cost the hub process about 400 MB). We refuse a packet
larger than :data:`~hub.contract.limits.MAX_PACKET_BYTES` as soon as its fixed header is
read, and the broker closes that client's connection, as Mosquitto does with
``max_packet_size``. It admits anyone and speaks MQTT 3.1.1 only: a device developer who
wants to see per-device accounts and MQTT 5 refusals (0x87) uses the Mosquitto set-up in
docs/device-contract.md instead.

    broker = await start_embedded_broker(port=1883)
    print(broker.url)          # mqtt://127.0.0.1:1883, or another port if 1883 was taken
    await broker.stop()
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from dataclasses import dataclass, field
from typing import Any

from hub.contract.limits import MAX_PACKET_BYTES
from hub.errors import BrokerError

log = logging.getLogger(__name__)

_SHUTDOWN_NUDGE = 2.0  # seconds before we help amqtt's shutdown along (see stop())
_SHUTDOWN_TIMEOUT = 10.0

_PLUGINS: dict[str, dict[str, Any]] = {
    # The only plugin we need: amqtt refuses every client when no auth plugin answers.
    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
}


def broker_config(host: str, port: int) -> dict[str, Any]:
    """The amqtt 0.12 configuration we run: one TCP listener, anonymous access, no ``$SYS``."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": dict(_PLUGINS),
    }


class PacketTooLargeError(BrokerError):
    """A client sent a packet over the embedded broker's limit (its connection is closed)."""


def limit_packet_size(max_bytes: int = MAX_PACKET_BYTES) -> None:
    """Make amqtt's protocol handler refuse packets over ``max_bytes`` (whole packet after
    the fixed header), closing the client's connection; idempotent.

    amqtt 0.12 reads each packet with ``MQTTFixedHeader.from_stream`` looked up in
    ``amqtt.mqtt.protocol.handler``; an exception there other than amqtt's own errors (which
    it skips, reading the payload as the next packet) ends that client's reader loop, which
    closes the connection (and publishes its Will). The limit applies to every amqtt
    broker in the process: only the embedded broker runs amqtt here.
    """
    from amqtt.mqtt import packet
    from amqtt.mqtt.protocol import handler

    current = handler.MQTTFixedHeader
    if getattr(current, "carehub_limit", None) == max_bytes:
        return

    class LimitedFixedHeader(packet.MQTTFixedHeader):  # type: ignore[misc]
        carehub_limit = max_bytes

        @classmethod
        async def from_stream(cls, reader: Any) -> Any:
            header = await super().from_stream(reader)
            if header is not None and header.remaining_length > max_bytes:
                raise PacketTooLargeError(
                    f"packet of {header.remaining_length} bytes is over the limit of "
                    f"{max_bytes}; closing the connection"
                )
            return header

    handler.MQTTFixedHeader = LimitedFixedHeader


def port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind ``host:port`` now (amqtt binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise BrokerError(f"cannot listen on {host}:{port}: {exc}") from exc
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class EmbeddedBroker:
    """A running amqtt broker; ``url`` is what :class:`hub.mqtt.adapter.MqttSettings` parses."""

    host: str
    port: int
    _broker: Any = field(repr=False)

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Shut the broker down (connected clients are dropped; retained messages are lost)."""
        if self._broker is None:
            return
        broker, self._broker = self._broker, None
        readers = [h.reader for _s, h in list(broker.sessions.values()) if h and h.reader]
        shutdown = asyncio.ensure_future(broker.shutdown())
        try:
            done, _ = await asyncio.wait({shutdown}, timeout=_SHUTDOWN_NUDGE)
            if not done:
                # Python 3.11's wait_for can swallow a cancellation (fixed in 3.12): amqtt's
                # shutdown then waits forever for a client reader it cancelled. An EOF ends
                # such a reader the normal way.
                log.info("embedded MQTT broker: ending %d client readers", len(readers))
                for reader in readers:
                    reader.feed_eof()
            await asyncio.wait_for(shutdown, _SHUTDOWN_TIMEOUT)
        except Exception as exc:  # amqtt raises its own errors and transitions.MachineError
            raise BrokerError(f"embedded MQTT broker did not shut down cleanly: {exc}") from exc


async def start_embedded_broker(host: str = "127.0.0.1", port: int = 1883) -> EmbeddedBroker:
    """Start amqtt on ``host:port``; if the port is taken, on a free port (and say so).

    ``port=0`` asks for any free port. Must be awaited inside the loop that will run it.
    """
    from amqtt.broker import Broker  # imported here: only the embedded mode needs amqtt

    if port == 0:
        port = free_port(host)
    elif not port_is_free(host, port):
        wanted, port = port, free_port(host)
        log.warning(
            "port %d on %s is taken (another MQTT broker?); the embedded broker uses port %d",
            wanted,
            host,
            port,
        )
    limit_packet_size()
    try:
        broker = Broker(broker_config(host, port))
        await broker.start()
    except Exception as exc:  # amqtt wraps OSError in its own BrokerError
        raise BrokerError(f"embedded MQTT broker could not start on {host}:{port}: {exc}") from exc
    log.info("embedded MQTT broker (amqtt) listening on mqtt://%s:%d", host, port)
    return EmbeddedBroker(host=host, port=port, _broker=broker)


__all__ = [
    "EmbeddedBroker",
    "broker_config",
    "free_port",
    "limit_packet_size",
    "port_is_free",
    "start_embedded_broker",
]
