"""``carehub serve --dashboard-only``: the dashboard without ingest or detection.

In the cluster mode (``carehub bridge`` and ``carehub worker``) no process holds every
alert; a dashboard node serves the REST API, the console and ``/ws`` on any machine,
against PostgreSQL: its WebSocket clients are fed by the store's change notifications
(:mod:`dashboard.fanout`), whichever worker or dashboard node committed the change.

:class:`DashboardNode` is what the dashboard needs of a hub (:class:`dashboard.deps.Hub`):
the store, the live registry, and an alert engine for the staff's actions (acknowledge,
assign, resolve, silences), loaded from the store and kept current by the notifications. It
runs no ingest, no detectors and no alert timers (the worker holding partition 0 runs
those); with ``CAREHUB_MQTT_URL`` set it connects to the broker only to send commands to
devices ("help is coming" on an acknowledged SOS).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

from alerts.directory import StoreDirectory
from carehub.alerting import alerting
from hub.backoff import Backoff, retry
from hub.errors import ConfigError, StoreError
from hub.metrics import HubMetrics
from hub.registry.live import LiveRegistry
from hub.runtime.health import StoreProbe
from hub.runtime.visits import VisitKeeper
from hub.settings import HubSettings
from hub.store import open_store
from hub.store.base import Store


class NoPipeline:
    """A dashboard node ingests nothing: no batch ever reaches these observers."""

    def __init__(self) -> None:
        self.observers: list[Any] = []


class DashboardNode:
    """See the module docstring."""

    def __init__(
        self, store: Store, settings: HubSettings, *, clock: Callable[[], float] = time.time,
        node_id: str | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.settings = settings
        self.clock = clock
        self.node_id = node_id or f"carehub-dashboard-{socket.gethostname()}"
        self.metrics = HubMetrics()
        self.pipeline = NoPipeline()
        self.registry = LiveRegistry(store, refresh_s=settings.registry_refresh_s)
        directory = StoreDirectory(store)
        self.registry.add_listener(lambda _s, changes: directory.invalidate() if changes else None)
        wired = alerting(store, directory, settings, publish=self.publish, clock=clock)
        self.alert_engine, self._webhooks, self.alerts = wired.engine, wired.webhooks, wired.runner
        self.visits = VisitKeeper(
            store, clock=clock, default_timezone=settings.default_timezone,
            on_findings=self.alerts.on_findings,
        )  # fmt: skip
        """Generates a changed plan's tasks and clears an overdue alert when its visit is
        recorded (the API's calls); its periodic rounds run in the cluster worker that holds
        the alert timers, not here."""
        self.store_probe = StoreProbe(
            store.list_cities, interval_s=settings.health_probe_s,
            timeout_s=settings.health_timeout_s,
        )  # fmt: skip
        self.publisher: Any = None
        self.fanout: Any = None
        """The app's :class:`dashboard.fanout.StoreFanout` (set by :func:`serve_dashboard`)."""
        self.started_at: float | None = None

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        if self.publisher is not None:
            self.publisher.publish(topic, payload, qos=qos)

    async def start(self) -> None:
        if self.settings.mqtt_url:
            import dataclasses

            from hub.mqtt.adapter import MqttAdapter, MqttSettings

            mqtt = MqttSettings.from_url(self.settings.mqtt_url)
            self.publisher = MqttAdapter(
                dataclasses.replace(mqtt, client_id=self.node_id), subscriptions=[],
                queue_size=self.settings.queue_size, clock=self.clock,
            )  # fmt: skip
            await self.publisher.start(wait_connected=None)
        await self.registry.start()
        await asyncio.to_thread(self.alert_engine.load)
        await self.store_probe.start()
        self.started_at = self.clock()

    async def stop(self) -> None:
        await self.store_probe.stop()
        await self.registry.stop()
        await self._webhooks.aclose()
        if self.publisher is not None:
            await self.publisher.stop()

    def refresh_gauges(self) -> None:
        return None

    async def health(self) -> dict[str, Any]:
        """Ready when the store answers and the change notifications are listened to."""
        store = self.store_probe.report()
        feed = self.fanout.report() if self.fanout is not None else {"ok": False}
        not_ready = [n for n, ok in (("store", store["ok"]), ("change_feed", feed["ok"])) if not ok]
        return {
            "ok": not not_ready, "mode": "dashboard-only", "node": self.node_id,
            "state": "running" if self.started_at is not None else "stopped",
            "not_ready": not_ready, "store": {"backend": self.store.backend, **store},
            "change_feed": feed,
        }  # fmt: skip


async def serve_dashboard(
    settings: HubSettings, *, announce: Callable[[str], None] = print,
    clock: Callable[[], float] = time.time,
) -> None:  # fmt: skip
    """Run a dashboard-only node until cancelled (PostgreSQL only)."""
    import uvicorn

    from carehub.serve import uvicorn_options
    from dashboard.app import create_app
    from dashboard.settings import DashboardSettings

    url = settings.resolved_database_url()
    if not url.startswith(("postgresql", "postgres:")):
        raise ConfigError("--dashboard-only needs PostgreSQL: set CAREHUB_DATABASE_URL")
    backoff = Backoff(settings.retry_min_s, settings.retry_max_s, jitter=0.5)
    store = await retry(
        lambda: asyncio.to_thread(open_store, url), backoff=backoff,
        what="store not ready", retry_on=(StoreError,),
    )  # fmt: skip
    node = DashboardNode(store, settings, clock=clock)
    try:
        await node.start()
        dashboard = DashboardSettings()
        dashboard.keep_secret_in(settings.data_dir)
        app = create_app(node, dashboard, change_feed=url)
        node.fanout = app.state.ctx.extra["fanout"]
        config = uvicorn.Config(
            app, host=settings.http_host, port=settings.http_port, lifespan="on",
            **uvicorn_options(),
        )  # fmt: skip
        server = uvicorn.Server(config)
        announce(f"carehub dashboard {node.node_id}: http://{settings.http_host}:"
                 f"{settings.http_port}/ (dashboard only)")  # fmt: skip
        await server.serve()
    finally:
        await node.stop()
        await asyncio.to_thread(store.close)
