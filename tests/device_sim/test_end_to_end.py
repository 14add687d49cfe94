"""End to end: the simulator in its own process publishes a compressed scenario over a real
Mosquitto to a hub (in this process, on the same accelerated clock) that stores into a real
PostgreSQL; the scorer then finds every fall, SOS and smoke alarm."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from carehub.serve import Hub
from device_sim.cli import sim_app
from device_sim.clock import AcceleratedClock
from device_sim.engine import default_epoch
from device_sim.scenario import load_scenario
from hub.settings import HubSettings
from hub.store import open_store

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


async def _run_scenario(
    name: str, mosquitto: Any, db_url: str, tmp_path: Path, speed: float, extra: list[str]
) -> dict[str, Any]:
    import asyncio

    sc = load_scenario(name)
    epoch = default_epoch(sc, time.time())
    anchor = time.time() + 15.0  # the simulator's start-up (imports, provisioning)
    clock = AcceleratedClock(epoch, anchor, speed)
    store = open_store(db_url)
    settings = HubSettings(batch_max_delay_s=0.05, detect_tick_s=0.25, registry_refresh_s=0.5)
    hub = Hub(store, f"{mosquitto.url}?client_id=hub-{time.time_ns()}", settings=settings,
              clock=clock.now)  # fmt: skip
    await hub.start()
    truth = tmp_path / "truth.jsonl"
    cmd = [sys.executable, "-m", "device_sim", "run", "--scenario", name, "--broker",
           mosquitto.url, "--truth", str(truth), "--db", db_url, "--speed", str(speed),
           "--epoch", str(epoch), "--anchor", str(anchor), *extra]  # fmt: skip
    try:
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stderr=subprocess.PIPE)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=120)
        assert proc.returncode == 0, stderr.decode()
        await asyncio.sleep(3.0)  # let the hub store and judge the last messages
    finally:
        await hub.stop()
        store.close()
    result = CliRunner().invoke(sim_app, ["score", "--truth", str(truth), "--json", "--db", db_url])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


async def test_compressed_incidents_are_all_detected(
    mosquitto: Any, new_pg_database: Callable[[], str], tmp_path: Path
) -> None:
    score = await _run_scenario("ci-compressed", mosquitto, new_pg_database(), tmp_path, 180.0, [])
    kinds = score["kinds"]
    for kind in ("fall", "sos", "smoke"):
        assert kinds[kind]["recall"] == 1.0, (kind, json.dumps(score, indent=1))
    # a bound on false alerts during the two hours (malformed and duplicate messages must
    # not alarm anyone)
    assert score["false_alerts"] <= 1, score
