"""The embedded MQTT broker (amqtt) for ``carehub serve`` without settings, the demo and tests.

amqtt 0.12.1 speaks MQTT 3.1.1 only (the adapter falls back to it), relays retained
messages and the Last Will, and must be created inside a running asyncio loop. Its default
plugins, the ``$SYS`` statistics above all, halve its throughput, so we pass an explicit
plugin list: anonymous access only. Production uses Mosquitto or
EMQX.

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
    try:
        broker = Broker(broker_config(host, port))
        await broker.start()
    except Exception as exc:  # amqtt wraps OSError in its own BrokerError
        raise BrokerError(f"embedded MQTT broker could not start on {host}:{port}: {exc}") from exc
    log.info("embedded MQTT broker (amqtt) listening on mqtt://%s:%d", host, port)
    return EmbeddedBroker(host=host, port=port, _broker=broker)


__all__ = ["EmbeddedBroker", "broker_config", "free_port", "port_is_free", "start_embedded_broker"]
