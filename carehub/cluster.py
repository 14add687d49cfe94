"""``carehub bridge`` and ``carehub worker``: the cluster mode's composition root.

:func:`run_bridge` wires the MQTT adapter (shared subscription), JetStream and the registry
into a :class:`hub.cluster.bridge.Bridge`; :func:`run_worker` wires a
:class:`hub.cluster.worker.Worker` to the alert engine, as :class:`carehub.serve.Hub` does
for the single node: findings in; alerts, notifications and device commands out. Alerts
reach dashboards through the store, whichever worker raised them. The alert engine's
timers (escalation rounds, notification retries) run in the worker that holds partition 0,
so one worker, and always one, runs them.

The cluster runs on PostgreSQL only (fenced commits: :mod:`hub.store.postgres.fencing`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import Gauge

from alerts.directory import StoreDirectory
from alerts.storm_groups import StormGroups
from carehub.alerting import alerting
from carehub.cluster_health import HealthServer
from carehub.engine_sync import EngineSync
from carehub.serve import confirm_replies
from hub.cluster.bridge import Bridge, Router, shared
from hub.cluster.jetstream import connect, ensure_stream
from hub.cluster.worker import Worker
from hub.contract.topics import subscriptions
from hub.errors import ConfigError
from hub.ingest.core import Accepted
from hub.metrics import HubMetrics
from hub.runtime.health import StoreProbe
from hub.runtime.visits import VisitKeeper
from hub.settings import HubSettings
from hub.store import open_store
from hub.store.base import FencingStore, Store
from hub.store.postgres.fencing import worker_session_url
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

TIMERS_PARTITION = 0
"""The worker holding this partition runs the alert engine's timers."""


def _postgres(settings: HubSettings) -> str:
    url = settings.resolved_database_url()
    if not url.startswith(("postgresql", "postgres:")):
        raise ConfigError("the cluster mode needs PostgreSQL: set CAREHUB_DATABASE_URL")
    return url


def _mqtt(
    settings: HubSettings, client_id: str, subs: list[tuple[str, int]],
    clock: Callable[[], float] = time.time,
) -> Any:  # fmt: skip
    from hub.mqtt.adapter import MqttAdapter, MqttSettings

    if settings.mqtt_url is None:
        raise ConfigError("the cluster mode needs an MQTT broker: set CAREHUB_MQTT_URL")
    mqtt = dataclasses.replace(MqttSettings.from_url(settings.mqtt_url), client_id=client_id)
    return MqttAdapter(
        mqtt, subscriptions=subs, queue_size=settings.queue_size, manual_ack=True, clock=clock
    )


async def run_bridge(
    settings: HubSettings, *, bridge_id: str | None = None,
    announce: Callable[[str], None] = print, clock: Callable[[], float] = time.time,
) -> None:  # fmt: skip
    """Run one bridge until cancelled; ``clock`` stamps the receive times."""
    bridge_id = bridge_id or f"carehub-bridge-{socket.gethostname()}"
    store = await asyncio.to_thread(open_store, _postgres(settings))
    adapter = _mqtt(settings, bridge_id, shared(subscriptions()), clock)
    nc = await connect(settings.nats_url, name=bridge_id)
    try:
        js = nc.jetstream()
        await ensure_stream(js, max_age_s=settings.stream_max_age_s)
        bridge = Bridge(
            adapter, js, Router(settings.partitions), devices=store.list_devices,
            refresh_s=settings.registry_refresh_s,
        )  # fmt: skip
        await adapter.start(wait_connected=None)
        probe = StoreProbe(store.list_cities, interval_s=settings.health_probe_s,
                           timeout_s=settings.health_timeout_s)  # fmt: skip
        await probe.start()
        health = await _health_server(
            settings, lambda: bridge_readiness(adapter, nc, probe, bridge),
            HubMetrics(), bridge_id,
        )  # fmt: skip
        announce(f"carehub bridge {bridge_id}: {settings.partitions} partitions")
        try:
            await bridge.run()
        finally:
            if health is not None:
                await health.stop()
            await probe.stop()
            await adapter.stop()
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
        await asyncio.to_thread(store.close)


async def bridge_readiness(
    adapter: Any, nc: Any, probe: StoreProbe, bridge: Bridge
) -> dict[str, Any]:
    """For a bridge's ``/readyz``: connected to the broker, NATS and PostgreSQL."""
    mqtt = bool(adapter.stats().get("connected"))
    nats = bool(nc.is_connected)
    store = probe.report()
    not_ready = [n for n, ok in (("mqtt", mqtt), ("nats", nats), ("store", store["ok"]))
                 if not ok]  # fmt: skip
    return {
        "ok": not not_ready, "role": "bridge", "not_ready": not_ready, "store": store,
        "published": bridge.published, "duplicates": bridge.duplicates, "failed": bridge.failed,
    }  # fmt: skip


def _state(run: Any) -> str:
    """``live`` (storing and detecting), ``replaying`` (storing; its detector state being
    rebuilt) or ``claiming`` (the consumer being taken over)."""
    if run is None:
        return "claiming"
    return "live" if run.gate.is_open else "replaying"


async def _health_server(
    settings: HubSettings, ready: Callable[[], Any], metrics: HubMetrics, name: str,
    before_scrape: Callable[[], None] = lambda: None,
) -> HealthServer | None:  # fmt: skip
    """``/healthz``, ``/readyz`` and ``/metrics`` on ``CAREHUB_HEALTH_PORT`` (0: none)."""
    if not settings.health_port:
        return None
    server = HealthServer(settings.http_host, settings.health_port, ready, metrics, before_scrape)
    await server.start()
    log.info("%s: health on http://%s:%d/readyz", name, settings.http_host, settings.health_port)
    return server


class ClusterWorker:
    """A :class:`Worker` with the alert engine wired in (the cluster's ``Hub``)."""

    def __init__(
        self, store: Store, settings: HubSettings, *, worker_id: str,
        publisher: Any = None, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        if not isinstance(store, FencingStore):
            raise ConfigError("the cluster mode needs PostgreSQL (fenced commits)")
        self.publisher = publisher
        self.worker = Worker(
            store, settings, worker_id=worker_id, publish=self._publish, clock=clock
        )
        wired = alerting(
            store, StoreDirectory(store), settings, publish=self._publish_qos, clock=clock
        )
        self.engine, self._webhooks, self.alerts = wired.engine, wired.webhooks, wired.runner
        self.storms = StormGroups(self.engine, store, worker_id)
        self.visits = VisitKeeper(
            store, clock=clock, default_timezone=settings.default_timezone,
            on_findings=self.alerts.on_findings,
        )  # fmt: skip
        """Visit housekeeping (docs/visits.md): one keeper for the whole cluster, in the
        worker that runs the alert timers."""
        url = getattr(store, "url", None)
        self.sync = EngineSync(self.engine, store, url, worker_id) if url else None
        self._clock = clock
        self.worker.detection.listeners.append(self._findings)
        self.worker.observers.append(self._replies)
        self.worker.on_claim.append(self._claimed)
        self.worker.on_lose.append(self._lost)
        self.store_probe = StoreProbe(store.list_cities, interval_s=settings.health_probe_s,
                                      timeout_s=settings.health_timeout_s)  # fmt: skip
        registry = self.worker.metrics.registry
        self._held = Gauge("carehub_partitions_held", "Partitions claimed", registry=registry)
        self._live = Gauge("carehub_partitions_live", "Partitions claimed and live",
                           registry=registry)  # fmt: skip
        self._timers: asyncio.Task[None] | None = None
        self._recovering: asyncio.Future[None] | None = None
        self._background: set[asyncio.Future[Any]] = set()

    def _publish(
        self, topic: str, payload: bytes, qos: int, retain: bool, droppable: bool = False
    ) -> Any:
        if self.publisher is None:
            return None
        return self.publisher.publish(topic, payload, qos=qos, retain=retain, droppable=droppable)

    def _publish_qos(self, topic: str, payload: bytes, qos: int) -> None:
        self._publish(topic, payload, qos, False)

    async def _findings(self, findings: Sequence[Any]) -> None:
        """Storm findings through :class:`alerts.storm_groups.StormGroups` (one alert for a
        storm every worker sees a part of), the rest straight to the engine."""
        storms = [f for f in findings if StormGroups.wants(f)]
        rest = [f for f in findings if not StormGroups.wants(f)]
        if rest:
            await self.alerts.on_findings(rest)
        if storms:
            await self.alerts.call(self.storms.feed, storms, self._clock())

    def _replies(self, batch: Sequence[Accepted]) -> None:
        confirm_replies(self.alerts, self._background, batch)

    async def _claimed(self, partition: int) -> None:
        # the previous owner's open alerts for these residents, and findings it stored but
        # never took in, come from the store: once for the claims of one round
        if self._recovering is None or self._recovering.done():
            self._recovering = asyncio.ensure_future(self._recover_soon())
            self._background.add(self._recovering)
            self._recovering.add_done_callback(self._background.discard)
        if partition == TIMERS_PARTITION and self._timers is None:
            self._timers = asyncio.create_task(self.alerts.run(), name="alert-timers")
            await self.visits.start()

    async def _recover_soon(self) -> None:
        await asyncio.sleep(0.2)  # the other claims of the round
        try:
            await self.alerts.recover()
        except Exception:
            log.exception("alert engine recovery after a claim failed")

    async def _lost(self, partition: int) -> None:
        if partition == TIMERS_PARTITION and self._timers is not None:
            await self.visits.stop()
            await cancel_and_wait(self._timers)
            self._timers = None

    async def start(self) -> None:
        if self.publisher is not None:
            await self.publisher.start(wait_connected=None)
        await self.store_probe.start()
        if self.sync is not None:
            await self.sync.start()
        await self.alerts.recover()
        await self.worker.start()

    async def readiness(self) -> dict[str, Any]:
        """For ``/readyz``: connected to NATS and PostgreSQL, leases renewing; the
        partitions held, each ``live``, ``replaying`` or ``claiming`` (:func:`_state`)."""
        w = self.worker
        nats = bool(w._nc is not None and w._nc.is_connected)
        store = self.store_probe.report()
        leases = w.keeper.healthy()
        not_ready = [n for n, ok in (("nats", nats), ("store", store["ok"]),
                                     ("leases", leases)) if not ok]  # fmt: skip
        return {
            "ok": not not_ready, "role": "worker", "id": w.worker_id, "not_ready": not_ready,
            "store": store, "detection": w.detection.detection.watched(),
            "partitions": {
                str(p): {"epoch": e, "state": _state(w.runs.get(p))}
                for p, e in sorted(w.held.items())
            },
        }  # fmt: skip

    def refresh_gauges(self) -> None:
        self._held.set(len(self.worker.held))
        self._live.set(len(self.worker.runs))

    async def stop(self) -> None:
        await self.store_probe.stop()
        await self.worker.stop()
        if self.sync is not None:
            await self.sync.stop()
        await self._lost(TIMERS_PARTITION)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._webhooks.aclose()
        if self.publisher is not None:
            await self.publisher.stop()


async def run_worker(
    settings: HubSettings, *, worker_id: str | None = None,
    announce: Callable[[str], None] = print, clock: Callable[[], float] = time.time,
    store: Store | None = None,
) -> None:  # fmt: skip
    """Run one worker until cancelled (on ``store`` when given, else the configured one)."""
    worker_id = worker_id or f"carehub-worker-{socket.gethostname()}"
    if store is None:
        store = await asyncio.to_thread(
            open_store, worker_session_url(_postgres(settings), worker_id)
        )
    publisher = _mqtt(settings, worker_id, [], clock) if settings.mqtt_url else None
    node = ClusterWorker(store, settings, worker_id=worker_id, publisher=publisher, clock=clock)
    health = None
    try:
        await node.start()
        health = await _health_server(
            settings, node.readiness, node.worker.metrics, worker_id, node.refresh_gauges
        )
        announce(f"carehub worker {worker_id}: lease {settings.lease_ttl_s:g} s")
        await asyncio.Event().wait()
    finally:
        if health is not None:
            await health.stop()
        await node.stop()
        await asyncio.to_thread(store.close)
