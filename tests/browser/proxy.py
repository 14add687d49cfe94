"""A TCP proxy that can freeze: connections stay open but no byte moves either way, like a
stalled NAT entry or a Wi-Fi link that died without a reset. Used to prove that a page
notices a connection that is silent rather than closed."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from hub.broker.embedded import free_port

CHUNK = 65_536


class FreezingProxy:
    """Forward ``127.0.0.1:port`` to ``target``; :meth:`freeze` holds every byte (of open
    and new connections) until :meth:`thaw`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, name="freezing-proxy", daemon=True)

    def start(self) -> FreezingProxy:
        self._thread.start()
        return self

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        self._stopped.set()
        self._flowing.set()  # release pumps waiting to forward
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        client.settimeout(None)
        self._track(upstream)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                self._flowing.wait()  # frozen: hold here; unread bytes stay in the kernel
                data = src.recv(CHUNK)
                if not data:
                    break
                self._flowing.wait()
                if self._stopped.is_set():
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def freezing_proxy(target_url: str) -> Iterator[FreezingProxy]:
    """A :class:`FreezingProxy` in front of ``http://host:port`` for the block."""
    hostport = target_url.split("://", 1)[1].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    proxy = FreezingProxy(host, int(port)).start()
    try:
        yield proxy
    finally:
        proxy.stop()
