"""Prometheus metrics of the hub, one registry per hub instance (tests run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class HubMetrics:
    """The counters, gauges and histograms the ingest pipeline and adapter update."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages_in = Counter(
            "carehub_messages_in", "Messages received from devices", ["type"], registry=r
        )
        self.accepted = Counter(
            "carehub_messages_accepted", "Messages validated and stored", ["type"], registry=r
        )
        self.refused = Counter(
            "carehub_messages_refused", "Messages refused, by reason code", ["reason"], registry=r
        )
        self.duplicates = Counter(
            "carehub_duplicates_dropped", "Duplicate messages (same device and seq)", registry=r
        )
        self.dead_letters = Counter("carehub_dead_letters", "Dead letters written", registry=r)
        self.dead_letters_dropped = Counter(
            "carehub_dead_letters_dropped",
            "Refusals not kept as dead letters (flood: beyond one per report; retained: a "
            "replay of one kept before) and dead letters deleted by retention (age, cap)",
            ["reason"],
            registry=r,
        )
        self.retained_cleared = Counter(
            "carehub_retained_cleared",
            "Empty payloads taken as the deletion of a retained message",
            registry=r,
        )
        self.unclaimed_not_listed = Counter(
            "carehub_unclaimed_not_listed",
            "Unknown sub-device ids not listed for claiming: over their gateway's quota",
            registry=r,
        )
        self.reports_dropped = Counter(
            "carehub_error_reports_dropped",
            "Error reports not sent so that commands to devices keep their room",
            registry=r,
        )
        self.warnings = Counter(
            "carehub_device_warnings", "Warnings reported to devices", ["code"], registry=r
        )
        self.queue_dropped = Counter(
            "carehub_mqtt_queue_dropped",
            "Messages dropped because the hand-off queue was full",
            registry=r,
        )
        self.queue_depth = Gauge(
            "carehub_queue_depth", "Messages waiting between MQTT and the pipeline", registry=r
        )
        self.pending_rows = Gauge(
            "carehub_pending_rows", "Rows waiting to be written to the store", registry=r
        )
        self.batch_seconds = Histogram(
            "carehub_batch_write_seconds",
            "Time to write one batch to the store",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.batch_rows = Histogram(
            "carehub_batch_rows",
            "Rows per batch written",
            buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.store_failures = Counter(
            "carehub_store_write_failures", "Batch writes that failed and were retried", registry=r
        )
        self.store_refused = Counter(
            "carehub_store_refused_rows",
            "Rows the store refused as data (split out of their batch; messages kept as dead "
            "letters with code store_refused), by kind of row",
            ["kind"],
            registry=r,
        )
        self.mqtt_connected = Gauge(
            "carehub_mqtt_connected", "1 while the hub is connected to the broker", registry=r
        )
        self.telemetry_gaps = Counter(
            "carehub_telemetry_gaps",
            "Messages lost for certain: seq numbers that never arrived (hub/ingest/gaps.py)",
            registry=r,
        )
        self.telemetry_late = Counter(
            "carehub_telemetry_gaps_filled_late",
            "Messages that arrived after their seq was counted as lost",
            registry=r,
        )
        self.findings = Counter(
            "carehub_findings", "Findings of the detectors", ["kind", "priority"], registry=r
        )
        self.replayed = Counter(
            "carehub_replayed_messages",
            "Stored messages run through the detectors again at start (after the watermark)",
            registry=r,
        )
        self.devices_online = Gauge(
            "carehub_devices_online", "Devices whose last status is online", registry=r
        )
