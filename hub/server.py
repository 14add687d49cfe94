"""``carehub serve``: the hub process — broker connection, ingest pipeline, store, HTTP.

:class:`Hub` owns the long-lived resources and is what tests start against a throwaway
broker and database; :func:`serve` adds the embedded broker (when no external one is
configured) and the HTTP server, and stops everything cleanly on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from hub.contract.topics import PREFIX, subscriptions
from hub.detection import Detection
from hub.detection_runner import DetectionRunner
from hub.errors import ConfigError
from hub.ingest import Accepted, Ingest
from hub.metrics import HubMetrics
from hub.pipeline import Pipeline
from hub.settings import HubSettings
from hub.store import open_store
from hub.store.base import Store

log = logging.getLogger(__name__)

HUB_STATUS_TOPIC = f"{PREFIX}/hub/status"


class Hub:
    """One hub node: MQTT adapter → ingest pipeline → store, with metrics."""

    def __init__(
        self,
        store: Store,
        mqtt_url: str,
        *,
        settings: HubSettings | None = None,
        clock: Callable[[], float] = time.time,
        node_id: str | None = None,
        detect: bool = True,
    ) -> None:
        from hub.mqtt import MqttAdapter, MqttSettings  # the only paho importer

        self.settings = settings or HubSettings()
        self.store = store
        self.clock = clock
        self.metrics = HubMetrics()
        self.node_id = node_id or f"carehub-hub-{socket.gethostname()}"
        online = json.dumps({"state": "online", "node": self.node_id}).encode()
        offline = json.dumps({"state": "offline", "node": self.node_id}).encode()
        self.mqtt_settings = MqttSettings.from_url(mqtt_url)
        self.adapter = MqttAdapter(
            self.mqtt_settings,
            subscriptions=subscriptions(),
            queue_size=self.settings.queue_size,
            birth=(HUB_STATUS_TOPIC, online),
            will=(HUB_STATUS_TOPIC, offline),
            manual_ack=True,
            clock=clock,
        )
        self.ingest = Ingest(metrics=self.metrics, clock=clock)
        self.pipeline = Pipeline(
            store,
            self.adapter,
            self.ingest,
            metrics=self.metrics,
            max_rows=self.settings.batch_max_rows,
            max_delay_s=self.settings.batch_max_delay_s,
            registry_refresh_s=self.settings.registry_refresh_s,
            recent_seq_s=self.settings.recent_seq_hours * 3600,
            clock=clock,
        )
        self.detection = DetectionRunner(
            store,
            Detection(clock=clock),
            self.metrics,
            clock=clock,
            tick_s=self.settings.detect_tick_s,
            registry_refresh_s=self.settings.registry_refresh_s,
            upstream=self.pipeline.horizon,
        )
        if detect:  # off only to measure ingestion alone (bench/ingest.py)
            self.pipeline.observers.append(self.detection.observe)
        self._background: set[asyncio.Future[Any]] = set()
        self._build_alerts()
        self.started_at: float | None = None
        self._dropped_counted = 0

    def _build_alerts(self) -> None:
        """The alert engine: findings in, alerts, notifications and device commands out."""
        from alerts.directory import StoreDirectory
        from alerts.engine import AlertEngine
        from alerts.notify import Dispatcher
        from alerts.notify.apprise_sender import AppriseSender
        from alerts.notify.webhook import WebhookSender
        from alerts.runner import AlertRunner

        public = self.settings.public_url or (
            f"http://{self.settings.http_host}:{self.settings.http_port}"
        )
        self.alert_engine = AlertEngine(
            self.store, StoreDirectory(self.store), link_base=f"{public.rstrip('/')}/alerts"
        )
        self._webhooks = WebhookSender()
        self.alerts = AlertRunner(
            self.alert_engine,
            Dispatcher(self._webhooks, AppriseSender()),
            publish=lambda topic, payload, qos: self.adapter.publish(topic, payload, qos=qos),
            clock=self.clock,
        )
        self.detection.listeners.append(self.alerts.on_findings)
        self.pipeline.observers.append(self._replies)
        self._alerts_task: asyncio.Task[None] | None = None

    def _replies(self, batch: Sequence[Accepted]) -> None:
        """Command replies from devices confirm the "help is coming" on the alert."""
        for acc in batch:
            if acc.msg_type == "reply":
                m = acc.message
                task = asyncio.ensure_future(
                    self.alerts.on_reply(acc.device.id, m.id, m.status, acc.received_at)
                )
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def start(self) -> None:
        await self.pipeline.prepare()
        await self.alerts.recover()
        self._alerts_task = asyncio.create_task(self.alerts.run(), name="alerts")
        await self.detection.start()
        await self.adapter.start(asyncio.get_running_loop())
        await self.pipeline.start()
        self.started_at = self.clock()

    async def stop(self) -> None:
        await self.pipeline.stop()
        await self.detection.stop()
        if self._alerts_task is not None:
            self._alerts_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._alerts_task
            self._alerts_task = None
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.adapter.stop()
        await self._webhooks.aclose()

    def refresh_gauges(self) -> None:
        stats = self.adapter.stats()
        self.metrics.queue_depth.set(stats.get("queue_depth", 0))
        self.metrics.mqtt_connected.set(1 if stats.get("connected") else 0)
        dropped = stats.get("dropped", 0)
        if dropped > self._dropped_counted:  # the adapter counts; the metric follows
            self.metrics.queue_dropped.inc(dropped - self._dropped_counted)
            self._dropped_counted = dropped

    async def health(self) -> dict[str, Any]:
        """What ``/healthz`` reports: ok only when the broker and the store answer."""
        stats = self.adapter.stats()
        try:
            await asyncio.to_thread(self.store.list_cities)
            store_ok, store_error = True, None
        except Exception as exc:  # report, never raise from a health check
            store_ok, store_error = False, str(exc)
        return {
            "ok": bool(stats.get("connected")) and store_ok,
            "mqtt": {k: v for k, v in stats.items() if not callable(v)},
            "store": {"ok": store_ok, "backend": self.store.backend, "error": store_error},
            "batches_written": self.pipeline.batches_written,
            "uptime_s": round(self.clock() - self.started_at, 1) if self.started_at else None,
        }


def tune_gc() -> None:
    """Make the cyclic garbage collector cheaper for a long-running hub process.

    Ingestion allocates several short-lived objects per message; with the default
    thresholds the collector's young-generation passes cost about a fifth of the per-message
    time (measured with bench/ingest.py's core loop). Objects alive at start-up (modules,
    registry) are moved out of its way with ``gc.freeze()``.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def serve(settings: HubSettings, *, announce: Callable[[str], None] = print) -> None:
    """Run the hub (and the embedded broker when no external one is set) until cancelled."""
    import uvicorn

    from dashboard.app import create_app
    from dashboard.settings import DashboardSettings

    tune_gc()
    broker = None
    mqtt_url = settings.mqtt_url
    if mqtt_url is None:
        from hub.broker import start_embedded_broker

        broker = await start_embedded_broker(
            settings.embedded_mqtt_host, settings.embedded_mqtt_port
        )
        mqtt_url = f"{broker.url}?protocol=3"  # amqtt speaks MQTT 3.1.1 only
    if settings.mqtt_password is not None:
        mqtt_url = _with_password(mqtt_url, settings.mqtt_password.get_secret_value())
    db_url = settings.resolved_database_url()
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await asyncio.to_thread(open_store, db_url)
    hub = Hub(store, mqtt_url, settings=settings)
    try:
        await hub.start()
        app = create_app(hub, DashboardSettings())
        config = uvicorn.Config(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            ws_per_message_deflate=False,
        )
        server = uvicorn.Server(config)
        serving = asyncio.ensure_future(server.serve())
        try:
            # say where the hub listens once it does: a script reading these lines may
            # connect straight away
            while not (server.started or serving.done()):  # noqa: ASYNC110 - uvicorn's flag
                await asyncio.sleep(0.05)
            if server.started:
                _announce(announce, hub.node_id, broker, mqtt_url, store.backend, db_url,
                          f"http://{settings.http_host}:{settings.http_port}")  # fmt: skip
            await serving
        except asyncio.CancelledError:  # stopped by our caller, not by a signal
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
            if server.started:
                await server.shutdown()  # close the listening socket and connections
            raise
        if not server.started:
            raise ConfigError(
                f"could not listen on {settings.http_host}:{settings.http_port}; "
                "set CAREHUB_HTTP_PORT to a free port"
            )
    finally:
        await hub.stop()
        await asyncio.to_thread(store.close)
        if broker is not None:
            await broker.stop()


def _announce(
    announce: Callable[[str], None], node_id: str, broker: Any, mqtt_url: str, backend: str,
    db_url: str, base: str,
) -> None:  # fmt: skip
    announce(f"carehub hub {node_id}")
    shown = broker.url + " (embedded)" if broker else _redact(mqtt_url)
    announce(f"  MQTT broker : {shown}")
    announce(f"  store       : {backend} {_redact(db_url)}")
    announce(f"  dashboard   : {base}/")
    announce(f"  API         : {base}/docs")
    announce(f"  health      : {base}/healthz")
    announce(f"  metrics     : {base}/metrics")
    announce("Press Ctrl-C to stop.")


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _with_password(url: str, password: str) -> str:
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.username:
        raise ConfigError("CAREHUB_MQTT_PASSWORD is set but CAREHUB_MQTT_URL has no user")
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{parts.username}:{quote(password, safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))
