"""How the hub reaches its MQTT broker: :class:`MqttSettings`, parsed from one URL.

Kept apart from :mod:`hub.mqtt.adapter` so that settings can be read, checked and shown without
loading paho (only ``hub/mqtt/adapter.py`` imports it); ``hub.mqtt.adapter`` re-exports the class.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from hub.errors import ConfigError

Protocol = Literal[3, 5]
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_PROTOCOLS: dict[str, Protocol] = {"5": 5, "auto": 5, "3": 3, "3.1.1": 3, "311": 3, "4": 3}


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


class _ClosingSSLSocket(ssl.SSLSocket):
    """An ``SSLSocket`` that closes itself when its handshake fails.

    paho wraps the TCP socket and shakes hands in one step; when the handshake fails (an
    untrusted or misconfigured broker) it drops the socket unclosed, to the garbage
    collector, once per retry.
    """

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except OSError:  # ssl.SSLError, timeouts and resets alike
            self.close()
            raise


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

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context for ``mqtts://``: the system's trusted CAs, or only ``ca_file``;
        a client certificate when ``cert_file`` is set. The broker's certificate is always
        verified, its host name unless ``insecure``. Raises :class:`ConfigError`.
        """
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if self.cert_file:
                context.load_cert_chain(self.cert_file, self.key_file)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"MQTT TLS settings unusable: {exc}") from exc
        context.check_hostname = not self.insecure
        context.sslsocket_class = _ClosingSSLSocket
        return context

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


__all__ = ["MqttSettings", "Protocol"]
