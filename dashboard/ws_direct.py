"""Writing an already encoded WebSocket frame straight to a connection's transport.

Fan-out is the dashboard's hot path: one alert goes to every console of a district. Through
the ASGI stack each client costs a writer task's wake-up, a timeout handle and about ten
coroutine frames (Starlette's ``send_text``, its exception wrappers, uvicorn's ``send``,
the frame encoder) before ``transport.write``: about 0.2 ms a client, so 1,000 consoles saw
an alert over 200 ms after the first (``bench/ws.py``). The websockets library's broadcast
guide does it differently: encode once, write to every connection synchronously, and treat
a growing write buffer as the sign of a slow client. That is what this module allows on
uvicorn's WebSocket protocol (``websockets-sansio``, uvicorn's default when the websockets
package is installed):

- :func:`text_frame` encodes a text message once, with the websockets library's encoder (a
  server's frames are not masked, so every client gets the same bytes);
- :meth:`DirectSocket.of` finds the connection behind the server's own ASGI ``send``
  callable, which the dashboard's application records in the scope (:func:`keep_raw_send`,
  before any middleware wraps it in functions that hide the connection); it returns None for
  anything it does not recognise (another server, the test client, a connection that
  negotiated compression, where every frame must be encoded per connection), and the
  broadcaster then keeps its queue and writer task for that client.

Writing frames beside uvicorn is safe because uvicorn writes whole messages and never
fragments them; everything runs on the event loop's thread, so frames never interleave.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope, Send
from websockets.frames import Frame, Opcode

RAW_SEND = "carehub.raw_send"
"""Scope key under which :func:`keep_raw_send` keeps the server's own ``send`` callable."""


def text_frame(text: str) -> bytes:
    """One unmasked, unfragmented, uncompressed text frame.

    >>> text_frame('{"a":1}')
    b'\\x81\\x07{"a":1}'
    """
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


def keep_raw_send(scope: Scope, send: Send) -> None:
    """Record the server's ``send`` for a WebSocket connection; call it first thing in the
    application's ``__call__``."""
    if scope["type"] == "websocket":
        scope[RAW_SEND] = send


class DirectSocket:
    """The transport of one uvicorn WebSocket connection, for pre-encoded frames."""

    __slots__ = ("_protocol", "_transport")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport = protocol.transport

    @classmethod
    def of(cls, scope: Scope) -> DirectSocket | None:
        """The connection's socket, or None when frames must go through ASGI ``send``."""
        protocol = getattr(scope.get(RAW_SEND), "__self__", None)
        conn = getattr(protocol, "conn", None)
        needed = ("transport", "handshake_complete", "close_sent", "disconnected")
        if protocol is None or conn is None or not all(hasattr(protocol, n) for n in needed):
            return None
        if getattr(conn, "extensions", None) != []:  # e.g. permessage-deflate
            return None
        if getattr(protocol.transport, "get_write_buffer_size", None) is None:
            return None
        return cls(protocol)

    @property
    def open(self) -> bool:
        """The handshake is done and neither side has begun to close."""
        p = self._protocol
        return bool(
            p.handshake_complete
            and not p.close_sent
            and not p.disconnected
            and not self._transport.is_closing()
        )

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel: the client's backlog."""
        return int(self._transport.get_write_buffer_size())

    def write(self, frame: bytes) -> None:
        """Queue ``frame`` on the transport; never waits."""
        self._transport.write(frame)

    def abort(self) -> None:
        """Drop the connection now, unsent bytes and all (a client too slow to close)."""
        self._transport.abort()
