"""One hub node: MQTT adapter → ingest pipeline → store, with detection and metrics.

The node knows nothing of alerts or the dashboard: what it finds goes to the listeners of
:attr:`HubNode.detection`, what it accepts to the observers of :attr:`HubNode.pipeline`,
and services that must run beside it (the alert runner, say) are started and stopped with
it through :meth:`HubNode.add_service`. The composition root (``carehub.serve``) wires
them together.

:meth:`HubNode.health` answers at once from cached state: the broker connection as the
adapter sees it and the store as :class:`hub.runtime.health.StoreProbe` last found it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from typing import Any, Protocol

from hub.contract.topics import PREFIX, subscriptions
from hub.detect.router import Detection
from hub.ingest.core import Ingest
from hub.metrics import HubMetrics
from hub.registry.live import Change, LiveRegistry, RegistrySnapshot
from hub.runtime.detection_runner import DetectionRunner
from hub.runtime.health import StoreProbe
from hub.runtime.pipeline import Pipeline
from hub.settings import HubSettings
from hub.store.base import Store

HUB_STATUS_TOPIC = f"{PREFIX}/hub/status"


class Service(Protocol):
    """Something that runs beside the node: started before intake, stopped after it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class HubNode:
    """The hub's data path, started against one broker and one store."""

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
        from hub.mqtt.adapter import MqttAdapter, MqttSettings  # the only paho importer

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
        self.registry = LiveRegistry(store, refresh_s=self.settings.registry_refresh_s)
        """The one registry snapshot: the pipeline and the detectors follow its changes."""
        self.ingest = Ingest(metrics=self.metrics, clock=clock)
        self.pipeline = Pipeline(
            store,
            self.adapter,
            self.ingest,
            metrics=self.metrics,
            max_rows=self.settings.batch_max_rows,
            max_delay_s=self.settings.batch_max_delay_s,
            registry_refresh_s=None,
            recent_seq_s=self.settings.recent_seq_hours * 3600,
            dead_letter_days=self.settings.dead_letter_days,
            dead_letter_keep=self.settings.dead_letter_max,
            clock=clock,
        )
        self.detection = DetectionRunner(
            store,
            Detection(clock=clock, timezone=self.settings.default_timezone),
            self.metrics,
            clock=clock,
            tick_s=self.settings.detect_tick_s,
            registry_refresh_s=None,
            upstream=self.pipeline.horizon,
            warmup_s=self.settings.detect_warmup_s,
        )
        if detect:  # off only to measure ingestion alone (bench/ingest.py)
            self.pipeline.observers.append(self.detection.observe)
            # silence is not judged across the hub's own outage (see DeviceHealthDetector)
            self.adapter.on_connect_change(self.detection.detection.link_changed)
        self.registry.add_listener(self._registry_changed)
        self.store_probe = StoreProbe(
            store.list_cities,
            interval_s=self.settings.health_probe_s,
            timeout_s=self.settings.health_timeout_s,
        )
        self._services: list[Service] = []
        self.started_at: float | None = None
        self._dropped_counted = 0

    def add_service(self, service: Service) -> None:
        """Run ``service`` with the node: started before messages flow, stopped after."""
        self._services.append(service)

    def _registry_changed(self, snap: RegistrySnapshot, changes: list[Change]) -> None:
        """A device, resident or station changed: the pipeline and the detectors follow.
        (The first load reports no changes: both load their own initial state at start,
        the detectors with the devices' stored states.)"""
        if not changes:
            return
        self.ingest.set_devices(list(snap.devices.values()))
        self.detection.detection.set_registry(
            snap.devices.values(), snap.residents.values(), (), snap.stations.values()
        )

    def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Send a message to the broker (commands to devices, hub status)."""
        self.adapter.publish(topic, payload, qos=qos)

    async def start(self, *, wait_connected: float | None = 10.0) -> None:
        """Start the data path. ``wait_connected``: seconds to wait for the broker before
        :class:`hub.errors.BrokerError`; ``None`` starts without it and lets the adapter's
        reconnect loop reach it (``carehub serve``: the broker may come up later)."""
        await self.registry.start()
        await self.pipeline.prepare()
        for service in self._services:
            await service.start()
        await self.detection.start()
        await self.adapter.start(asyncio.get_running_loop(), wait_connected=wait_connected)
        await self.pipeline.start()
        await self.store_probe.start()
        self.started_at = self.clock()

    async def stop(self) -> None:
        await self.store_probe.stop()
        await self.registry.stop()
        await self.pipeline.stop()
        await self.detection.stop()
        for service in reversed(self._services):
            await service.stop()
        await self.adapter.stop()

    def refresh_gauges(self) -> None:
        stats = self.adapter.stats()
        self.metrics.queue_depth.set(stats.get("queue_depth", 0))
        self.metrics.mqtt_connected.set(1 if stats.get("connected") else 0)
        dropped = stats.get("dropped", 0)
        if dropped > self._dropped_counted:  # the adapter counts; the metric follows
            self.metrics.queue_dropped.inc(dropped - self._dropped_counted)
            self._dropped_counted = dropped

    async def health(self) -> dict[str, Any]:
        """What ``/healthz`` reports, at once and without I/O: ok only when the broker is
        connected and the store's last probe answered. ``not_ready`` names what is not
        (``store``, ``mqtt``); ``probe_age_s`` says how old the store's result is."""
        stats = self.adapter.stats()
        store = self.store_probe.report()
        connected = bool(stats.get("connected"))
        not_ready = [name for name, ok in (("store", store["ok"]), ("mqtt", connected)) if not ok]
        return {
            "ok": not not_ready,
            "state": "running" if self.started_at is not None else "stopped",
            "not_ready": not_ready,
            "mqtt": {k: v for k, v in stats.items() if not callable(v)},
            "store": {"backend": self.store.backend, **store},
            "probe_age_s": store["age_s"],
            "batches_written": self.pipeline.batches_written,
            "uptime_s": round(self.clock() - self.started_at, 1) if self.started_at else None,
        }
