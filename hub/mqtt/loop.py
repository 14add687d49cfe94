"""Drive a paho client's network I/O from an asyncio event loop, without a network thread.

paho offers this "external event loop" mode: it reports its socket through four callbacks
(``on_socket_open``/``on_socket_close``, ``on_socket_register_write``/``..._unregister_write``)
and leaves the reading, writing and keep-alive to ``loop_read()``, ``loop_write()`` and
``loop_misc()``. :class:`LoopDriver` wires those to ``add_reader``/``add_writer``, so
``on_message`` runs in the event loop's thread and a message reaches asyncio without a
thread hop, and without a second thread contending for the GIL at every ``recv()``::

    driver = LoopDriver(loop, client)       # before client.connect()
    await loop.run_in_executor(None, client.connect, host, port)
    keepalive = asyncio.create_task(driver.keepalive())
    ...
    driver.close()

This module does not import paho (only ``hub/mqtt/adapter.py`` does): it works on any object with
paho's loop methods and socket callbacks (:class:`LoopClient`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

READ_BUDGET = 200  # packets handled per readiness event before other tasks get a turn
KEEPALIVE_TICK = 1.0  # seconds between two loop_misc() calls (pings, keep-alive timeouts)


class LoopClient(Protocol):
    """The part of ``paho.mqtt.client.Client`` that :class:`LoopDriver` uses."""

    on_socket_open: Any
    on_socket_close: Any
    on_socket_register_write: Any
    on_socket_unregister_write: Any

    def loop_read(self, max_packets: int = 1) -> int: ...
    def loop_write(self) -> int: ...
    def loop_misc(self) -> int: ...
    def socket(self) -> Any: ...
    def buffered(self) -> int:
        """Bytes read from the socket and not yet consumed (0 for an unbuffered client)."""
        ...


class LoopDriver:
    """Runs one client's reads, writes and keep-alive in ``loop``; see the module docstring.

    Create it in the loop's thread. paho calls the socket callbacks from whichever thread
    runs ``connect()`` (an executor thread, since the TCP and TLS handshakes block): they are
    handed to the loop with ``call_soon_threadsafe`` and checked again there, because the
    socket may have been closed in between. After :meth:`close`, a socket that still
    arrives (a connect finishing late) is closed at once instead of being watched.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: LoopClient,
        *,
        on_failure: Callable[[], None] | None = None,
    ) -> None:
        self.loop = loop
        self.client = client
        self.on_failure = on_failure
        self.closed = False
        self._failed: Any = None  # a socket given up after a read or write raised
        self._thread = threading.get_ident()
        self._readers: set[int] = set()
        self._writers: set[int] = set()
        self._again = False  # a read pass is scheduled with call_soon
        client.on_socket_open = self._socket_open
        client.on_socket_close = self._socket_close
        client.on_socket_register_write = self._register_write
        client.on_socket_unregister_write = self._unregister_write

    def in_loop(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` now in the loop's thread, or soon from any other thread."""
        if threading.get_ident() == self._thread:
            fn(*args)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: shutting down
                self.loop.call_soon_threadsafe(fn, *args)

    # -- paho's socket callbacks (any thread) -------------------------------------------------

    def _socket_open(self, _client: Any, _userdata: Any, sock: Any) -> None:
        self.in_loop(self._watch, sock, sock.fileno())

    def _socket_close(self, _client: Any, _userdata: Any, sock: Any) -> None:
        # paho calls this before closing the socket, so the descriptor is still valid here.
        fd = sock.fileno()
        if fd >= 0:
            self.in_loop(self._unwatch, fd)

    def _register_write(self, _client: Any, _userdata: Any, sock: Any) -> None:
        self.in_loop(self._watch_write, sock, sock.fileno())

    def _unregister_write(self, _client: Any, _userdata: Any, sock: Any) -> None:
        fd = sock.fileno()
        if fd >= 0:
            self.in_loop(self._unwatch_write, fd)

    # -- loop side ----------------------------------------------------------------------------

    def _current(self, sock: Any, fd: int) -> bool:
        """Whether ``sock`` (descriptor ``fd`` when reported) is still the client's socket."""
        return (
            fd >= 0
            and sock.fileno() == fd
            and sock is not self._failed
            and self.client.socket() is sock
        )

    def _watch(self, sock: Any, fd: int) -> None:
        if self.closed:
            _close_quietly(sock)
        elif self._current(sock, fd):
            self.loop.add_reader(fd, self._readable)
            self._readers.add(fd)

    def _unwatch(self, fd: int) -> None:
        if fd in self._readers:
            self._readers.discard(fd)
            self.loop.remove_reader(fd)
        self._unwatch_write(fd)

    def _watch_write(self, sock: Any, fd: int) -> None:
        if not self.closed and self._current(sock, fd):
            self.loop.add_writer(fd, self._writable)
            self._writers.add(fd)

    def _unwatch_write(self, fd: int) -> None:
        if fd in self._writers:
            self._writers.discard(fd)
            self.loop.remove_writer(fd)

    def _readable(self) -> None:
        # loop_read() handles one packet per call: go on while the client holds bytes the
        # selector cannot see (read ahead by the client, or decrypted and kept by TLS), so a
        # burst costs one select, not one per message; a budget lets other tasks run.
        self._again = False
        client = self.client
        try:
            for _ in range(READ_BUDGET):
                if client.loop_read() != 0 or client.socket() is None:
                    return  # the connection ended; paho has closed it and said so
                if not self._buffered():
                    return  # the rest, if any, is still in the kernel: readiness tells
            self._again = True
            self.loop.call_soon(self._read_again)
        except Exception:  # a bug in a callback: never raise into the event loop
            log.exception("MQTT read failed; dropping the connection")
            self._fail()

    def _buffered(self) -> int:
        n = self.client.buffered()
        pending = getattr(self.client.socket(), "pending", None)  # ssl.SSLSocket
        return n + pending() if pending is not None else n

    def _read_again(self) -> None:
        if self._again and not self.closed:
            self._readable()

    def _writable(self) -> None:
        try:
            self.client.loop_write()
        except Exception:
            log.exception("MQTT write failed; dropping the connection")
            self._fail()

    def _fail(self) -> None:
        # paho's state is unknown after an exception inside it (a packet may be half
        # handled and would be handled again on the next read): stop watching the socket
        # for good and report the loss; the next connect() closes the socket and starts
        # afresh.
        sock = self.client.socket()
        if sock is not None:
            self._failed = sock
            fd = sock.fileno()
            if fd >= 0:
                self._unwatch(fd)
            self.abort()
        if self.on_failure is not None:
            self.on_failure()

    async def keepalive(self) -> None:
        """Call ``loop_misc()`` every :data:`KEEPALIVE_TICK` seconds (pings, keep-alive
        timeouts) until the connection ends."""
        while True:
            await asyncio.sleep(KEEPALIVE_TICK)
            if self.client.loop_misc() != 0:
                return

    def abort(self) -> None:
        """Shut the connection down without a DISCONNECT, as a crash would; paho notices on
        its next read and reports the loss."""
        sock = self.client.socket()
        if isinstance(sock, socket.socket):  # also an ssl.SSLSocket
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError as exc:
                log.debug("abort: %s", exc)

    def close(self) -> None:
        """Stop watching, and close the client's socket if it is still open (call it only
        once the client is no longer used: paho is not told)."""
        self.closed = True
        for fd in list(self._readers):
            self._unwatch(fd)
        for fd in list(self._writers):
            self._unwatch_write(fd)
        sock = self.client.socket()
        if sock is not None:
            _close_quietly(sock)


def call_in_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], T], timeout: float) -> T:
    """Run ``fn`` in ``loop``'s thread and wait for its result, from another thread.

    Raises what ``fn`` raises, ``RuntimeError`` when the loop is closed and ``TimeoutError``
    when the loop does not get to it within ``timeout`` seconds.
    """
    done: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            done.set_result(fn())
        except Exception as exc:
            done.set_exception(exc)

    loop.call_soon_threadsafe(run)
    return done.result(timeout=timeout)


def _close_quietly(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.close()


__all__ = ["KEEPALIVE_TICK", "READ_BUDGET", "LoopClient", "LoopDriver", "call_in_loop"]
