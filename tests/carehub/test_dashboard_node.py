"""``carehub serve --dashboard-only`` in a process of its own: alerts committed by another
process reach its WebSocket clients (PostgreSQL NOTIFY), staff act on them through it,
after its listening connection is cut it resyncs what was committed meanwhile, and the
telemetry workers commit reaches the tiles as vitals (read from the store)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect

from alerts.directory import StoreDirectory
from alerts.engine import AlertEngine
from carehub.engine_sync import EngineSync
from dashboard.auth import Authenticator, LoginLimiter
from hub.broker.embedded import free_port
from hub.store import open_store
from hub.store.base import (
    Device,
    FindingRow,
    IngestBatch,
    Resident,
    Station,
    Store,
    TelemetryRow,
)
from tests.browser.server import RESIDENT, STAFF, populate
from tests.fixtures.waiting import eventually

pytestmark = [pytest.mark.postgres]
TIMEOUT = 15.0
VITALS_S = 0.5


class Node:
    def __init__(self, url: str, db: str, store: Store, token: str) -> None:
        self.url, self.db, self.store, self.token = url, db, store, token
        self.engine = AlertEngine(store, StoreDirectory(store))

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=5).json())

    def raise_alert(self, device: str, kind: str) -> str:
        """An alert opened by this (test) process, as a worker would."""
        at = time.time()
        f = FindingRow(None, device, kind, "high", at, at, {}, {"en": kind}, id=None)
        self.engine.on_finding(f, at)
        [alert] = [a for a in self.engine.open_alerts() if a.kind == kind]
        return alert.id


@pytest.fixture(scope="module")
def node(_pg_databases: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    db = _pg_databases.create()
    store = open_store(db)
    now = time.time()
    populate(store, now)
    for n in range(2, 5):
        store.add_device(Device(f"w-{n}", "wearable", resident_id=RESIDENT, created_at=now))
    store.add_station(Station("st-2", "pd", "another station"))  # not the staff member's
    store.add_resident(Resident("r-2", "st-2", "another resident"))
    store.add_device(Device("o-1", "wearable", resident_id="r-2", created_at=now))
    auth = Authenticator(store, secret=b"", session_s=0,
                         limiter=LoginLimiter(1, 1, clock=time.time), clock=time.time)  # fmt: skip
    token = auth.new_token(STAFF, "test")[1]
    port = free_port()
    data = tmp_path_factory.mktemp("dashboard-node")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAREHUB_")}
    env |= {"CAREHUB_DATABASE_URL": db, "CAREHUB_HTTP_PORT": str(port),
            "CAREHUB_DATA_DIR": str(data), "CAREHUB_RETRY_MIN_S": "1.5",
            "CAREHUB_RETRY_MAX_S": "3", "CAREHUB_WS_VITALS_S": str(VITALS_S)}  # fmt: skip
    log = (data / "node.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "carehub", "serve", "--dashboard-only"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (data / "node.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (data / "node.log").read_text()
            time.sleep(0.1)
        yield Node(url, db, store, token)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        store.close()


async def alert_frame(ws: Any, alert_id: str, action: str | None = None) -> dict[str, Any]:
    async with asyncio.timeout(TIMEOUT):
        while True:
            msg = json.loads(await ws.recv())
            mine = msg["type"] == "alert" and msg["alert"]["id"] == alert_id
            if mine and (action is None or msg["action"] == action):
                return dict(msg)


def ws_url(node: Node) -> str:
    return node.url.replace("http://", "ws://") + "/ws"


async def test_an_alert_committed_elsewhere_reaches_the_console_and_staff_act_on_it(
    node: Node,
) -> None:
    # this process plays the worker: its engine opens the alert and must learn of the ack
    sync = EngineSync(node.engine, node.store, node.db, "test-worker")
    await sync.start()
    await asyncio.wait_for(sync.listener.connected.wait(), TIMEOUT)
    try:
        await acknowledged_through_the_dashboard(node)
        await eventually(
            "the worker's engine knowing the alert acknowledged",
            lambda: (
                [a.state for a in node.engine.open_alerts() if a.kind == "sos"] == ["acknowledged"]
            ),
        )
    finally:
        await sync.stop()


async def acknowledged_through_the_dashboard(node: Node) -> None:
    async with connect(ws_url(node), additional_headers=node.headers()) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "snapshot"
        alert_id = await asyncio.to_thread(node.raise_alert, "w-2", "sos")
        opened = await alert_frame(ws, alert_id)
        assert opened["action"] == "opened"
        assert opened["alert"]["state"] == "open"
        assert [e["action"] for e in opened["entries"]][:1] == ["opened"]
        # staff acknowledge through the dashboard node; the console hears it the same way
        async with httpx.AsyncClient(base_url=node.url, headers=node.headers()) as http:
            r = await http.post(f"/api/alerts/{alert_id}/acknowledge", json={})
            assert r.status_code == 200, r.text
        acked = await alert_frame(ws, alert_id, "acknowledged")
        assert acked["alert"]["state"] == "acknowledged"
    assert (await asyncio.to_thread(node.store.get_alert, alert_id)).state == "acknowledged"


async def test_a_dashboard_whose_listening_connection_dropped_resyncs(node: Node) -> None:
    before = node.health()["change_feed"]
    async with connect(ws_url(node), additional_headers=node.headers()) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        with psycopg.connect(node.db, autocommit=True) as conn:
            cut = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'carehub-listen' AND datname = current_database()"
            ).fetchall()
        assert cut == [(True,)]
        # committed while nobody listens: the node is waiting out its 1.5 s back-off
        alert_id = await asyncio.to_thread(node.raise_alert, "w-3", "fall")
        frame = await alert_frame(ws, alert_id)
        assert frame["alert"]["state"] == "open"
    after = node.health()["change_feed"]
    assert after["ok"] is True
    assert after["resyncs"] == before["resyncs"] + 1
    assert after["connects"] == before["connects"] + 1


async def test_telemetry_a_worker_committed_reaches_the_station_console_once(node: Node) -> None:
    async with connect(ws_url(node), additional_headers=node.headers()) as ws:
        assert json.loads(await ws.recv())["type"] == "snapshot"
        at = round(time.time(), 3)  # PostgreSQL keeps microseconds
        batch = IngestBatch(telemetry=[  # as a worker writes it
            TelemetryRow("w-4", 1, at - 1, at, {"hr": 71.0, "spo2": 96.0, "rssi": -60.0}),
            TelemetryRow("o-1", 1, at - 1, at, {"hr": 88.0}),  # another station's resident
        ])  # fmt: skip
        await asyncio.to_thread(node.store.write_batch, batch)
        first = await vitals_frame(ws, TIMEOUT)
        assert first is not None
        assert {k: v for k, v in first.items() if k != "id"} == {
            "type": "vitals", "device_id": "w-4", "resident_id": RESIDENT,
            "values": {"hr": 71.0, "spo2": 96.0}, "at": at,
        }  # fmt: skip
        # several reads later the row is still in their overlap: never published again,
        # and the other station's device never reaches this console
        assert await vitals_frame(ws, 6 * VITALS_S) is None


async def vitals_frame(ws: Any, within_s: float) -> dict[str, Any] | None:
    """The next ``vitals`` frame within ``within_s``, or None."""
    try:
        async with asyncio.timeout(within_s):
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "vitals":
                    return dict(msg)
    except TimeoutError:
        return None
