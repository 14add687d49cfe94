"""Sending notifications: the message type, the sender interface, and channel URL helpers.

A channel is a URL. ``hmac://SECRET@host[:port]/path`` (plain HTTP) and
``hmacs://SECRET@host/path`` (HTTPS) are carehub's signed webhooks
(:mod:`alerts.notify.webhook`); every other URL goes to apprise
(:mod:`alerts.notify.apprise_sender`): ``wecombot://KEY`` (WeCom group bot),
``dingtalk://[secret@]token``, ``mailto://``, ``ntfy://``, ``tgram://``, ``json://``...

Channel URLs carry secrets, so the timeline and logs only ever show :func:`redact`.

>>> redact("wecombot://0123456789abcdef"), redact("hmac://s3cret@10.0.0.5:8080/hook")
('wecombot://…', 'hmac://10.0.0.5:8080/…')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from hub.errors import CarehubError

WEBHOOK_SCHEMES = frozenset({"hmac", "hmacs"})
_SHOW_HOST = WEBHOOK_SCHEMES | {"json", "jsons", "xml", "xmls", "form", "forms", "ntfy", "ntfys"}


class DeliveryError(CarehubError):
    """A notification could not be delivered (the runner records it and retries)."""


@dataclass(frozen=True, slots=True)
class OutMessage:
    """What one channel receives about one alert."""

    key: str
    """Idempotency key (the outbox row's key): the same for every retry."""
    title: str
    body: str
    language: str
    payload: dict[str, Any] = field(default_factory=dict)
    """Structured form for webhooks: the alert, the round, the link."""


class Sender(Protocol):
    async def send(self, channel: str, message: OutMessage) -> None:
        """Deliver or raise :class:`DeliveryError`."""
        ...


def scheme(url: str) -> str:
    return url.partition("://")[0].lower()


def redact(url: str) -> str:
    """The URL without secrets: scheme, and host for webhook-like schemes only."""
    kind = scheme(url)
    if kind in _SHOW_HOST:
        try:
            host = urlsplit(url).netloc.rpartition("@")[2]
        except ValueError:
            host = ""
        return f"{kind}://{host}/…" if host else f"{kind}://…"
    return f"{kind}://…"


def channel_id(url: str) -> str:
    """A short stable id of a channel (for keys and technical alerts), secret-free."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


class Dispatcher:
    """Routes each channel to the sender for its scheme: signed webhooks or apprise."""

    def __init__(self, webhook: Sender, apprise: Sender) -> None:
        self.webhook = webhook
        self.apprise = apprise

    async def send(self, channel: str, message: OutMessage) -> None:
        sender = self.webhook if scheme(channel) in WEBHOOK_SCHEMES else self.apprise
        await sender.send(channel, message)
