"""Who is on the other end of a request: the peer address, or what a trusted reverse proxy
says in ``X-Forwarded-For`` and ``X-Forwarded-Proto``.

A header is only as good as whoever sent it. The server itself never rewrites the client
address (``carehub serve`` runs uvicorn with ``proxy_headers=False``); these functions
believe the headers only when the peer is one of ``CAREHUB_TRUSTED_PROXIES``, and then
take the right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy (the left
part is whatever the client wrote). Otherwise a client could rotate ``X-Forwarded-For``
and get a fresh login rate limit on every attempt.

>>> nets = (ipaddress.ip_network("10.0.0.0/8"),)
>>> forwarded_for("10.0.0.2", "6.6.6.6, 1.2.3.4", nets)
'1.2.3.4'
>>> forwarded_for("10.0.0.2", "1.2.3.4, 10.0.0.9", nets)
'1.2.3.4'
>>> forwarded_for("127.0.0.1", "1.2.3.4", nets)  # not a trusted proxy: the header is ignored
'127.0.0.1'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def forwarded_for(peer: str, header: str | None, networks: Sequence[Network]) -> str:
    """The client's address: ``peer``, or from ``header`` when ``peer`` is trusted."""
    if not header or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in header.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return _valid(hop) or peer
    first = _valid(hops[0]) if hops else None
    return first or peer


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None  # "unknown", an obfuscated name (RFC 7239) or garbage: not an address


def client_address(conn: Any, networks: Sequence[Network]) -> str:
    """The client of a Starlette request or WebSocket."""
    peer = conn.client.host if conn.client else "unknown"
    return forwarded_for(peer, conn.headers.get("x-forwarded-for"), networks)


def scheme(conn: Any, networks: Sequence[Network]) -> str:
    """``https`` or ``http`` as the browser sees it (a trusted proxy may have ended TLS)."""
    peer = conn.client.host if conn.client else ""
    forwarded = conn.headers.get("x-forwarded-proto")
    if forwarded and _trusted(peer, networks):
        return "https" if forwarded.split(",")[0].strip().lower() == "https" else "http"
    return str(conn.url.scheme)
