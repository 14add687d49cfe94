"""The alert engine and the runner that sends its notifications, wired one way for every
process that runs them (``carehub serve``, a cluster worker, a dashboard node).

The engine's links point at the dashboard's public address (``CAREHUB_PUBLIC_URL``, else
the address it listens on); notifications go out through signed webhooks and apprise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alerts.directory import StoreDirectory
from alerts.engine import AlertEngine
from alerts.notify import Dispatcher
from alerts.notify.apprise_sender import AppriseSender
from alerts.notify.webhook import WebhookSender
from alerts.runner import AlertRunner, Publish
from hub.settings import HubSettings
from hub.store.base import Store


@dataclass(frozen=True, slots=True)
class Alerting:
    """The engine, the webhook sender (closed by its owner on stop) and the runner."""

    engine: AlertEngine
    webhooks: WebhookSender
    runner: AlertRunner


def public_url(settings: HubSettings) -> str:
    """The dashboard's address as people reach it.

    >>> public_url(HubSettings(http_host="127.0.0.1", http_port=8080))
    'http://127.0.0.1:8080'
    """
    return settings.public_url or f"http://{settings.http_host}:{settings.http_port}"


def alerting(
    store: Store, directory: StoreDirectory, settings: HubSettings, *,
    publish: Publish, clock: Callable[[], float],
) -> Alerting:  # fmt: skip
    """An engine over ``store`` and ``directory`` and a runner sending for it."""
    engine = AlertEngine(
        store, directory, link_base=f"{public_url(settings).rstrip('/')}/alerts",
        default_timezone=settings.default_timezone,
    )  # fmt: skip
    webhooks = WebhookSender()
    runner = AlertRunner(
        engine, Dispatcher(webhooks, AppriseSender()), publish=publish, clock=clock
    )
    return Alerting(engine, webhooks, runner)
