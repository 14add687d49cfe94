"""Repeated runs against the same hub, and the broker URL's ``protocol`` option."""

from __future__ import annotations

import paho.mqtt.client as paho
import pytest

from device_sim.engine import Run, build_run
from device_sim.publisher import Connection, url_protocol
from device_sim.scenario import load_scenario
from hub.ingest.core import Ingest, Pending
from hub.store.base import Device
from tests.helpers.messages import Msg

E1 = 1_767_258_000.0  # 2026-01-01 09:00 UTC


def _feed(ingest: Ingest, run: Run) -> tuple[int, Pending]:
    """Hand every message of the run to the hub's ingest: (telemetry and events sent, work)."""
    for m in run.messages:
        ingest.handle(Msg(m.topic, m.payload, m.qos, m.retain, m.at))
    sent = sum(m.topic.endswith(("/telemetry", "/event")) for m in run.messages)
    return sent, ingest.take()


def _ingest(run: Run) -> Ingest:
    ing = Ingest(clock=lambda: E1, rate_burst=1_000_000, rate_per_s=1_000_000)
    ing.set_devices(Device(d.id, d.kind, resident_id=d.resident_id, gateway_id=d.gateway_id,
                           interval_s=d.interval_s) for d in run.devices)  # fmt: skip
    return ing


def test_a_second_run_is_not_taken_for_duplicates_by_a_restarted_hub() -> None:
    # 20 minutes of ci-compressed: ordinary messages only (its incidents come later)
    sc = load_scenario("ci-compressed", days="20m")
    first, second = build_run(sc, E1), build_run(sc, E1 + 3600)
    sent, p = _feed(_ingest(first), first)
    assert sent > 100 and len(p.telemetry) + len(p.events) == sent
    # the hub restarts: it rebuilds device states and each device's recent seq from the store
    recent: dict[str, list[int]] = {}
    for row in [*p.telemetry, *p.events]:
        recent.setdefault(row.device_id, []).append(row.seq)
    restarted = _ingest(second)
    restarted.seed(p.seen.values(), recent)
    sent2, p2 = _feed(restarted, second)
    again = {(r.device_id, r.seq) for r in p2.telemetry} & {
        (r.device_id, r.seq) for r in p.telemetry
    }
    assert len(again) > 50  # each run numbers its messages from 1 again
    assert len(p2.telemetry) + len(p2.events) == sent2
    assert p2.dead_letters == []


def test_the_broker_url_chooses_the_mqtt_version() -> None:
    assert url_protocol("mqtt://127.0.0.1:1883") == paho.MQTTv5
    assert url_protocol("mqtt://127.0.0.1:1883?protocol=5") == paho.MQTTv5
    assert url_protocol("mqtt://127.0.0.1:1883?protocol=3") == paho.MQTTv311
    conn = Connection("mqtt://127.0.0.1:1883?protocol=3", "w-1", None, None)
    assert (conn.protocol, conn.fallback) == (paho.MQTTv311, False)
    for bad in ("mqtt://h?protocol=7", "mqtt://h?qos=1", "http://h:1883", "mqtt://h:port"):
        with pytest.raises(ValueError, match="broker URL"):
            url_protocol(bad)
