"""Signed webhooks: JSON POSTed with an HMAC-SHA256 signature and an idempotency key.

Channel URL: ``hmac://SECRET@host[:port]/path`` (HTTP) or ``hmacs://SECRET@host/path``
(HTTPS); the secret is percent-decoded. Each request carries::

    Content-Type:        application/json
    X-Carehub-Timestamp: 1767225600            (hub time, integer epoch seconds)
    X-Carehub-Signature: sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>
    Idempotency-Key:     al-…:s0:…             (the same on every retry of one message)

A receiver recomputes the signature over the raw body (:func:`verify`), refuses stale
timestamps (replay) and drops a repeated idempotency key. The scheme is Stripe's and
Slack's (timestamp + "." + body, constant-time compare). Any 2xx answer is success; anything
else, or no answer, raises :class:`~alerts.notify.DeliveryError` and the runner retries
with back-off, recording each attempt.

>>> body = b'{"x":1}'
>>> sig = sign(b"k", "100", body)
>>> verify(b"k", "100", body, sig, now=120.0), verify(b"k", "100", body + b" ", sig, now=120.0)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

import httpx

from alerts.notify import DeliveryError, OutMessage

SIGNATURE_HEADER = "X-Carehub-Signature"
TIMESTAMP_HEADER = "X-Carehub-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TOLERANCE_S = 300.0
"""How old a timestamp a receiver should accept (Stripe's default tolerance)."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``"{timestamp}.{body}"``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: bytes, timestamp: str, body: bytes, signature: str, *, now: float,
    tolerance_s: float = TOLERANCE_S,
) -> bool:  # fmt: skip
    """What a receiver checks: the signature matches and the timestamp is fresh."""
    try:
        ts = float(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def parse_channel(url: str) -> tuple[str, bytes]:
    """``hmac(s)://SECRET@host/path`` → (``http(s)://host/path``, secret)."""
    parts = urlsplit(url)
    if parts.scheme not in ("hmac", "hmacs"):
        raise DeliveryError(f"not a signed webhook URL: {parts.scheme}://…")
    secret, at, host = parts.netloc.rpartition("@")
    if not at or not secret or not host:
        raise DeliveryError("signed webhook URL needs SECRET@host")
    target = parts._replace(
        scheme="https" if parts.scheme == "hmacs" else "http", netloc=host
    ).geturl()
    return target, unquote(secret).encode()


class WebhookSender:
    """POSTs signed JSON with httpx. One client (connection pool) for all webhooks."""

    def __init__(
        self, client: httpx.AsyncClient | None = None, *, timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._client = client or httpx.AsyncClient(timeout=timeout_s)
        self._own = client is None
        self._clock = clock

    async def send(self, channel: str, message: OutMessage) -> None:
        target, secret = parse_channel(channel)
        body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
        ts = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: sign(secret, ts, body),
            IDEMPOTENCY_HEADER: message.key,
        }
        try:
            resp = await self._client.post(target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"webhook: HTTP {resp.status_code}")

    async def aclose(self) -> None:
        if self._own:
            await self._client.aclose()
