"""``carehub sim eval``: run a scenario fast against a throwaway hub and score it.

One command, nothing to set up: a throwaway broker (``mosquitto`` on a free port when the
binary is installed, else the embedded amqtt), a throwaway SQLite database (or the
PostgreSQL database given by ``--db``; use an empty one), the hub **in this process on the
simulator's accelerated clock** (``Hub(clock=AcceleratedClock(...).now)``, as the CI
end-to-end test does) and the simulator in its own process (``python -m device_sim run``),
then :func:`device_sim.score.score` over the store.

Acceleration is faithful for everything the hub judges on its own clock (every detector
and the alert engine take the injected clock), except wall-clock *latency*: a message that
takes L seconds from the simulator to the hub's clock reading looks L × speed seconds late.
That shows up as clock skew (``|offset| > 120 s`` on 5 messages in a row,
``hub.contract.limits.CLOCK_SKEW_WARN_S``) and as silence (``k = 3`` × ``interval_s``,
:mod:`hub.detect.device_health`; 180 s for a wearable sending every 60 s). At speed 600 a
pause of 0.2 s in the hub (a garbage collection, a slow batch write, a busy machine) is
already two minutes: keep ``speed × worst latency`` well below 120 s, or read such alerts
as artefacts of the acceleration (the evidence is in the findings: ``source`` ``silence``
and ``clock_offset_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device_sim.clock import AcceleratedClock
from device_sim.engine import build_run, default_epoch
from device_sim.incidents import RunInfo, read_sent, read_truth
from device_sim.scenario import load_scenario

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
SETTLE_WALL_S = 3.0
"""After the simulator ends, the hub stores and judges the last messages."""


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """What ``carehub sim eval`` is told."""

    scenario: str
    speed: float = 600.0
    db: str | None = None
    days: str | None = None
    residents: int | None = None
    data_dir: Path | None = None
    embedded: bool = False
    quiet: bool = False
    broker: str | None = None
    """An existing open broker to use instead of a throwaway one (tests pass theirs)."""


@dataclass(frozen=True, slots=True)
class EvalResult:
    info: RunInfo
    score: dict[str, Any]
    db_url: str
    broker: str
    wall_s: float


@contextlib.asynccontextmanager
async def throwaway_broker(workdir: Path, embedded: bool = False, given: str | None = None
                           ) -> AsyncIterator[str]:  # fmt: skip
    """A broker URL for the run: ``given``, else a throwaway ``mosquitto`` (if installed),
    else the embedded amqtt."""
    if given is not None:
        yield given
        return
    binary = None if embedded else shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)),
        None,
    )  # fmt: skip
    if binary is None:
        from hub.broker.embedded import start_embedded_broker

        broker = await start_embedded_broker("127.0.0.1", 0)
        try:
            yield f"{broker.url}?protocol=3"  # amqtt speaks MQTT 3.1.1 only
        finally:
            await broker.stop()
        return
    from hub.broker.embedded import free_port

    port = free_port()
    conf = workdir / "mosquitto.conf"
    user = pwd.getpwuid(os.geteuid()).pw_name  # started as root, it would switch users
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    f"max_queued_messages 100000\nuser {user}\n"
                    f"log_dest file {workdir / 'mosquitto.log'}\n")  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        binary, "-c", str(conf), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError):
                await asyncio.open_connection("127.0.0.1", port)
                break
            if proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start on port {port}")
            await asyncio.sleep(0.05)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def evaluate(opts: EvalOptions) -> EvalResult:
    """Run the scenario against a throwaway hub on its accelerated clock; score it."""
    if opts.data_dir is not None:
        opts.data_dir.mkdir(parents=True, exist_ok=True)
        return await _evaluate(opts, opts.data_dir)
    with tempfile.TemporaryDirectory(prefix="carehub-eval-") as tmp:
        return await _evaluate(opts, Path(tmp))


async def _evaluate(opts: EvalOptions, work: Path) -> EvalResult:
    from carehub.demo import provision_without_passwords
    from carehub.serve import Hub, tune_gc
    from device_sim.score import occurrences_from_store, score
    from hub.settings import HubSettings
    from hub.store import open_store

    overrides: dict[str, object] = {}
    if opts.residents is not None:
        overrides["residents"] = {"count": opts.residents}
    if opts.days is not None:
        overrides["days"] = opts.days
    sc = load_scenario(opts.scenario, **overrides)
    epoch = default_epoch(sc, time.time())
    t0 = time.monotonic()
    run = await asyncio.to_thread(build_run, sc, epoch)  # to learn the devices
    build_s = time.monotonic() - t0
    db_url = opts.db or f"sqlite:///{work / 'carehub.sqlite3'}"
    store = open_store(db_url)
    truth = work / "truth.jsonl"
    started = time.monotonic()
    try:
        await asyncio.to_thread(provision_without_passwords, store, run)
        del run
        async with throwaway_broker(work, opts.embedded, opts.broker) as broker:
            # The simulator builds the run again (about as long as here) and connects.
            anchor = time.time() + 2.0 * build_s + 10.0
            clock = AcceleratedClock(epoch, anchor, opts.speed)
            settings = HubSettings(
                batch_max_delay_s=0.05, registry_refresh_s=0.5,
                # time-based detectors (silence, inactivity) every 60 simulated s at most
                detect_tick_s=min(5.0, max(0.05, 60.0 / opts.speed)),
            )  # fmt: skip
            sep = "&" if "?" in broker else "?"
            # as `carehub serve` does: a collector pause of 0.3 s is 3 minutes at speed 600
            thresholds = gc.get_threshold()
            tune_gc()
            hub = Hub(store, f"{broker}{sep}client_id=eval-hub-{os.getpid()}",
                      settings=settings, clock=clock.now)  # fmt: skip
            await hub.start()
            try:
                await _simulate(opts, broker, truth, epoch, anchor, work)
                await asyncio.sleep(SETTLE_WALL_S)
            finally:
                await hub.stop()
                gc.unfreeze()  # leave the calling process (a test session) as it was
                gc.set_threshold(*thresholds)
        info, records = read_truth(truth)
        result = score(info, records, await asyncio.to_thread(occurrences_from_store, store, info))
        # what the simulator's clients really sent, beside what the hub counted as lost
        result["mqtt"] = read_sent(truth) or {}
        states = await asyncio.to_thread(store.device_states)
        result["mqtt"]["hub_telemetry_gaps"] = sum(s.telemetry_gaps for s in states)
    finally:
        store.close()
    return EvalResult(info, result, db_url, broker, time.monotonic() - started)


async def _simulate(opts: EvalOptions, broker: str, truth: Path, epoch: float, anchor: float,
                    work: Path) -> None:  # fmt: skip
    cmd: list[str] = [
        sys.executable, "-m", "device_sim", "run", "--scenario", opts.scenario,
        "--broker", broker, "--truth", str(truth), "--no-provision",
        "--credentials", str(work / "no-passwords.json"), "--speed", str(opts.speed),
        "--epoch", f"{epoch:.3f}", "--anchor", f"{anchor:.3f}",
    ]  # fmt: skip
    if opts.days is not None:
        cmd += ["--days", opts.days]
    if opts.residents is not None:
        cmd += ["--residents", str(opts.residents)]
    log_path = work / "simulator.log"
    with log_path.open("ab") as logfile:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=logfile,
            stderr=logfile if opts.quiet else None,
        )  # fmt: skip
        try:
            code = await proc.wait()
        finally:
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"the simulator failed (exit {code}): {tail}")
