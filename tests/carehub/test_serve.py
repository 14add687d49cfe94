"""``carehub serve`` end to end: a device provisioned with the CLI publishes telemetry that
lands in the store, with the embedded broker and SQLite (no settings) and with an external
Mosquitto and PostgreSQL (``CAREHUB_MQTT_URL``, ``CAREHUB_DATABASE_URL``)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from carehub.cli import app
from carehub.serve import serve
from hub.broker.embedded import free_port
from hub.settings import HubSettings
from hub.store import open_store
from hub.tasks import cancel_and_wait
from tests.fixtures.mqtt_client import MqttTestClient
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.broker]


def provision(db_url: str) -> str:
    runner = CliRunner()
    steps = [
        ["city", "add", "sh", "上海市"],
        ["district", "add", "sh-pd", "--city", "sh", "--name", "浦东新区"],
        ["station", "add", "st-1", "--district", "sh-pd", "--name", "花木街道养老服务站"],
        ["resident", "add", "r-1", "--station", "st-1", "--name", "王秀英"],
        ["device", "provision", "w-1", "--kind", "wearable", "--resident", "r-1", "--json"],
    ]
    out = ""
    for step in steps:
        result = runner.invoke(app, [*step, "--db", db_url])
        assert result.exit_code == 0, result.output
        out = result.output
    return str(json.loads(out)["password"])


def publish_as_device(url: str) -> None:
    with MqttTestClient(url) as dev:
        body = {"ts": time.time(), "seq": 1, "hr": 66, "spo2": 98}
        dev.publish("carehub/v1/devices/w-1/telemetry", json.dumps(body).encode(), 1)
        dev.publish("carehub/v1/devices/w-1/telemetry", b"{broken", 1)


async def run_and_publish(settings: HubSettings, db_url: str, broker_url: str | None) -> None:
    lines: list[str] = []
    task = asyncio.create_task(serve(settings, announce=lines.append))
    try:
        await eventually("the hub to announce itself", lambda: any("health" in x for x in lines))
        url = broker_url or next(x.split()[-2] for x in lines if "MQTT broker" in x)
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{settings.http_port}/healthz")
        assert health.json()["ok"] is True
        # the embedded broker runs on this event loop: the device side must not block it
        await asyncio.to_thread(publish_as_device, url)
        store = open_store(db_url)
        try:
            rows = await eventually("the reading", lambda: store.telemetry("w-1"))
            assert rows[0].values == {"hr": 66, "spo2": 98}
            await eventually("the dead letter", store.count_dead_letters)
        finally:
            store.close()
    finally:
        await cancel_and_wait(task)


async def test_serve_with_nothing_configured(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    settings = HubSettings(
        data_dir=tmp_path / "data", http_port=free_port(), embedded_mqtt_port=free_port()
    )
    db_url = settings.resolved_database_url()
    provision(db_url)
    await run_and_publish(settings, db_url, None)
    assert (tmp_path / "data" / "carehub.sqlite3").exists()


@pytest.mark.postgres
async def test_serve_with_external_broker_and_postgres(
    new_pg_database: Any, mosquitto: Any, tmp_path: Path
) -> None:
    db_url = new_pg_database()
    provision(db_url)
    settings = HubSettings(
        mqtt_url=f"{mosquitto.url}?client_id=serve-{time.time_ns()}",
        database_url=db_url,
        http_port=free_port(),
        data_dir=tmp_path,
    )
    await run_and_publish(settings, db_url, mosquitto.url)
