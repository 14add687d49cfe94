"""Every non-webhook channel through apprise: WeCom and DingTalk bots, e-mail, SMS
gateways, ntfy, Telegram... (``apprise`` 2.x; URL forms in docs/alerts.md).

apprise is synchronous (it uses requests and smtplib), so each send runs in a worker
thread. Objects are cached per URL; a URL apprise does not understand fails at once with a
clear error instead of being retried forever by a silent ``False``.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from alerts.notify import DeliveryError, OutMessage, redact

log = logging.getLogger(__name__)


class AppriseSender:
    """Sends through apprise, one cached ``Apprise`` object per channel URL."""

    def __init__(self, *, max_cached: int = 1_024) -> None:
        # apprise 2.3 imports the stdlib's deprecated imghdr; that warning is theirs to fix
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import apprise  # imported here: the pure core stays importable without it

        self._apprise = apprise
        self._cache: dict[str, Any] = {}
        self._max = max_cached

    def _target(self, url: str) -> Any:
        target = self._cache.get(url)
        if target is None:
            target = self._apprise.Apprise()
            with warnings.catch_warnings():  # plugins load lazily on the first add()
                warnings.simplefilter("ignore", DeprecationWarning)
                added = target.add(url)
            if not added:
                raise DeliveryError(f"apprise does not understand the channel {redact(url)}")
            if len(self._cache) >= self._max:
                self._cache.pop(next(iter(self._cache)))
            self._cache[url] = target
        return target

    async def send(self, channel: str, message: OutMessage) -> None:
        target = self._target(channel)
        try:
            ok = await asyncio.to_thread(target.notify, body=message.body, title=message.title)
        except Exception as exc:  # apprise plugins raise what their libraries raise
            raise DeliveryError(f"apprise: {type(exc).__name__}: {exc}") from exc
        if not ok:
            raise DeliveryError(f"apprise could not deliver to {redact(channel)}")
