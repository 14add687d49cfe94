"""``carehub serve``: the hub process — broker connection, ingest pipeline, store, HTTP.

:class:`Hub` is a :class:`hub.runtime.node.HubNode` with the alert engine wired in, and
is what tests start against a throwaway broker and database; :func:`serve` adds the
embedded broker (when no external one is configured) and the HTTP server, waits out a store
or broker that is down at start-up (:mod:`carehub.startup`), and stops everything cleanly
on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from alerts.directory import StoreDirectory
from alerts.runner import AlertRunner
from carehub.alerting import alerting
from carehub.startup import Gate, Startup
from hub.backoff import Backoff, retry
from hub.errors import ConfigError, StoreError
from hub.ingest.core import Accepted
from hub.runtime.node import HUB_STATUS_TOPIC, HubNode
from hub.runtime.visits import VisitKeeper
from hub.settings import HubSettings
from hub.store import open_store
from hub.store.base import Store
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

__all__ = ["HUB_STATUS_TOPIC", "Hub", "serve", "tune_gc"]


class Hub(HubNode):
    """A hub node with the alert engine wired in: findings in; alerts, notifications and
    device commands out; visit housekeeping beside it. This is what ``carehub serve`` runs
    and tests start against a throwaway broker and database."""

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
        super().__init__(
            store, mqtt_url, settings=settings, clock=clock, node_id=node_id, detect=detect
        )
        self._background: set[asyncio.Future[Any]] = set()
        directory = StoreDirectory(self.store)
        # a registry change is seen by the engine's next finding, not a cache period later
        self.registry.add_listener(lambda _s, changes: directory.invalidate() if changes else None)
        wired = alerting(
            self.store, directory, self.settings, publish=self.publish, clock=self.clock
        )
        self.alert_engine, self._webhooks, self.alerts = wired.engine, wired.webhooks, wired.runner
        self.detection.listeners.append(self.alerts.on_findings)
        self.pipeline.observers.append(self._replies)
        self.add_service(_AlertService(self))
        self.visits = VisitKeeper(
            self.store, clock=self.clock, default_timezone=self.settings.default_timezone,
            on_findings=self.alerts.on_findings,
        )  # fmt: skip
        """Visit tasks, follow-ups and overdue-visit alerts (docs/visits.md)."""
        self.add_service(self.visits)

    def _replies(self, batch: Sequence[Accepted]) -> None:
        confirm_replies(self.alerts, self._background, batch)


def confirm_replies(
    alerts: AlertRunner, background: set[asyncio.Future[Any]], batch: Sequence[Accepted]
) -> None:
    """Command replies from devices confirm the "help is coming" on the alert (each in a
    task of its own, kept in ``background`` until it is done)."""
    for acc in batch:
        if acc.msg_type == "reply":
            m = acc.message
            task = asyncio.ensure_future(
                alerts.on_reply(acc.device.id, m.id, m.status, acc.received_at)
            )
            background.add(task)
            task.add_done_callback(background.discard)


class _AlertService:
    """The alert runner's life inside the hub: recovered from the store before intake,
    stopped (with the replies still in flight) after it."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.hub.alerts.recover()
        self._task = asyncio.create_task(self.hub.alerts.run(), name="alerts")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.hub._background:
            await asyncio.gather(*self.hub._background, return_exceptions=True)
        await self.hub._webhooks.aclose()


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


def uvicorn_options() -> dict[str, Any]:
    """The HTTP server's options (also used by the benchmarks): no WebSocket compression
    (:mod:`dashboard.ws_direct` writes one encoded frame to every client), no ``server``
    banner, and no rewriting of the client address from ``X-Forwarded-For``: the dashboard
    believes that header only from ``CAREHUB_TRUSTED_PROXIES`` (:mod:`dashboard.proxies`)."""
    return {
        "log_level": "warning",
        "ws_per_message_deflate": False,
        "server_header": False,
        "proxy_headers": False,
    }


async def serve(
    settings: HubSettings,
    *,
    announce: Callable[[str], None] = print,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> None:
    """Run the hub (and the embedded broker when no external one is set) until cancelled.

    The HTTP server listens first; a store or broker that is down is waited for, never
    given up on (:mod:`carehub.startup`), and ``/healthz`` says what is not ready meanwhile.
    The addresses are announced once the hub is ready. ``sleep`` waits between attempts;
    ``clock`` is the hub's time (the fault tests run it on the simulator's clock).
    """
    import uvicorn

    tune_gc()
    db_url = settings.resolved_database_url()
    startup = Startup(backend="sqlite" if db_url.startswith("sqlite") else "postgres")
    gate = Gate(startup)
    config = uvicorn.Config(
        gate,
        host=settings.http_host,
        port=settings.http_port,
        lifespan="off",  # the dashboard's lifespan is entered once the hub runs
        **uvicorn_options(),
    )
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    broker = None
    hub: Hub | None = None
    try:
        while not (server.started or serving.done()):  # noqa: ASYNC110 - uvicorn's flag
            await asyncio.sleep(0.05)
        if not server.started:
            raise ConfigError(
                f"could not listen on {settings.http_host}:{settings.http_port}; "
                "set CAREHUB_HTTP_PORT to a free port"
            )
        broker, mqtt_url = await _broker(settings)
        starting = asyncio.ensure_future(
            _start_hub(settings, db_url, mqtt_url, startup, sleep, clock)
        )
        await asyncio.wait({starting, serving}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # the server stopped (a signal) while the hub was starting
            await cancel_and_wait(starting)
            return
        hub = starting.result()
        await _run(hub, gate, serving, server, settings, broker, mqtt_url, db_url, announce)
    finally:
        await _stop_server(server, serving)
        if hub is not None:
            await hub.stop()
            await asyncio.to_thread(hub.store.close)
        if broker is not None:
            await broker.stop()


async def _broker(settings: HubSettings) -> tuple[Any, str]:
    """The embedded broker when no external one is set (else None), and the URL to use."""
    broker = None
    mqtt_url = settings.mqtt_url
    if mqtt_url is None:
        from hub.broker.embedded import start_embedded_broker

        broker = await start_embedded_broker(
            settings.embedded_mqtt_host, settings.embedded_mqtt_port
        )
        mqtt_url = f"{broker.url}?protocol=3"  # amqtt speaks MQTT 3.1.1 only
    if settings.mqtt_password is not None:
        mqtt_url = _with_password(mqtt_url, settings.mqtt_password.get_secret_value())
    return broker, mqtt_url


async def _start_hub(
    settings: HubSettings, db_url: str, mqtt_url: str, startup: Startup,
    sleep: Callable[[float], Awaitable[object]], clock: Callable[[], float] = time.time,
) -> Hub:  # fmt: skip
    """Open the store and start the hub, retrying with back-off while the store fails; the
    broker is not waited for here (the adapter's reconnect loop reaches it)."""
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def attempt() -> Hub:
        store = await asyncio.to_thread(
            open_store, db_url, connect_timeout_s=settings.store_connect_timeout_s
        )
        hub = Hub(store, mqtt_url, settings=settings, clock=clock)
        try:
            await hub.start(wait_connected=None)
        except BaseException:
            await hub.stop()
            await asyncio.to_thread(store.close)
            raise
        return hub

    backoff = Backoff(settings.retry_min_s, settings.retry_max_s, jitter=0.5)
    return await retry(
        attempt, backoff=backoff, what=f"store {_redact(db_url)} not ready", sleep=sleep,
        retry_on=(StoreError,), on_failure=startup.failed,
    )  # fmt: skip


async def _run(
    hub: Hub, gate: Gate, serving: asyncio.Future[None], server: Any, settings: HubSettings,
    broker: Any, mqtt_url: str, db_url: str, announce: Callable[[str], None],
) -> None:  # fmt: skip
    """Serve the dashboard for the started hub until the server stops."""
    from dashboard.app import create_app
    from dashboard.settings import DashboardSettings

    dashboard = DashboardSettings()
    dashboard.keep_secret_in(settings.data_dir)  # sessions outlive a restart (demo included)
    app = create_app(hub, dashboard)
    async with app.router.lifespan_context(app):
        gate.app = app
        try:
            # say where the hub listens once it is ready: a script reading these lines may
            # use it straight away (the broker may still be on its way)
            while not ((await hub.health())["ok"] or serving.done()):  # noqa: ASYNC110 - a snapshot
                await asyncio.sleep(0.05)
            if not serving.done():
                _announce(announce, hub.node_id, broker, mqtt_url, hub.store.backend, db_url,
                          f"http://{settings.http_host}:{settings.http_port}")  # fmt: skip
            await serving
        finally:
            await _stop_server(server, serving)  # before the dashboard's lifespan ends


async def _stop_server(server: Any, serving: asyncio.Future[None]) -> None:
    if serving.done() and not serving.cancelled():
        return  # uvicorn stopped itself (a signal) and closed its sockets
    # cancelled by us, or with our caller's cancellation (which reaches what it awaits)
    await cancel_and_wait(serving)
    if server.started:
        server.started = False  # shut down once
        await server.shutdown()  # close the listening socket and connections


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
