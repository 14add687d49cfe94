"""``carehub sim demo`` (``make demo``): a whole station on one machine, in one command.

It prepares a data folder (default ``./data/demo``, reused across runs): a city, district
and station, twenty residents with a wearable, a pendant, a home gateway and its sensors,
a contact each, a week of vital-sign history, and dashboard logins — station staff, a
family member of the first resident and a district admin — whose generated passwords are
kept in ``demo-login.json`` (so they stay the same from one run to the next;
:mod:`carehub.demo_extras`). Then it runs
``carehub serve``'s machinery in this process (embedded MQTT broker, SQLite in the folder,
the dashboard) and the simulator in its own process (``python -m device_sim run`` with the
``demo`` scenario at speed 1: an SOS ten seconds in, then an incident about every minute),
prints the dashboard's address and the logins, and stops both cleanly on Ctrl-C or SIGTERM.

Ports 8080 (HTTP) and 1883 (MQTT) are used when free, otherwise free ones are chosen and
the banner says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from carehub.demo_extras import RoleLogin, ensure_role_logins, seed_history
from carehub.demo_services import seed_services
from device_sim.engine import Run, build_run
from device_sim.provision import add_places
from device_sim.scenario import load_scenario
from hub.broker.embedded import free_port, port_is_free
from hub.errors import CarehubError, Conflict, NotFound
from hub.store.base import Contact, Device, Store, UserRow

if TYPE_CHECKING:
    from hub.settings import HubSettings

log = logging.getLogger(__name__)
out = Console()

DEFAULT_DIR = Path("data") / "demo"
SCENARIO = "demo"
DEMO_USER = "demo"
LOGIN_FILE = "demo-login.json"
SIM_LOG = "simulator.log"
STOP_TIMEOUT_S = 30.0
RELATIONS = (("女儿", "daughter"), ("儿子", "son"), ("侄女", "niece"), ("邻居", "neighbour"))


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What ``carehub sim demo`` is told."""

    data_dir: Path = DEFAULT_DIR
    host: str = "127.0.0.1"
    http_port: int = 8080
    mqtt_port: int = 1883
    scenario: str = SCENARIO


@dataclass(frozen=True, slots=True)
class Login:
    user: str
    password: str


def db_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'carehub.sqlite3'}"


def prepare_all(
    store: Store, data_dir: Path, scenario: str = SCENARIO
) -> tuple[Login, list[RoleLogin]]:
    """:func:`prepare`, then the family and admin logins and a week of history."""
    login = prepare(store, data_dir, scenario)
    run = build_run(load_scenario(scenario, days="1m"), time.time())
    extras = ensure_role_logins(store, data_dir / LOGIN_FILE,
                                district_id=run.scenario.station.district_id,
                                resident_id=run.homes[0].rid)  # fmt: skip
    seed_history(store, data_dir, time.time())
    seed_services(store, run.scenario.station.id, login.user, time.time())
    return login, extras


def prepare(store: Store, data_dir: Path, scenario: str = SCENARIO) -> Login:
    """Create whatever is missing (station, residents, devices, contacts, login); idempotent.

    The devices of a scenario do not depend on its duration, so a one-minute run is built
    just to learn them (the simulator builds the real one).
    """
    run = build_run(load_scenario(scenario, days="1m"), time.time())
    provision_without_passwords(store, run)
    for i, home in enumerate(run.homes):
        if not store.list_contacts(home.rid):
            zh, en = RELATIONS[i % len(RELATIONS)]
            phone = f"1380000{i:04d}"
            prefs = {"min_priority": "medium"}
            name = f"{zh}（{en}）"
            store.add_contact(Contact(f"{home.rid}-c1", home.rid, name, en, phone, (), prefs))
    return ensure_login(store, data_dir, run.scenario.station.id)


def provision_without_passwords(store: Store, run: Run) -> None:
    """Like :func:`device_sim.provision.provision_run`, but devices get no MQTT password:
    the embedded broker lets anyone in, and hashing 300 passwords with argon2 would hold
    the demo's first start up for about a minute."""
    add_places(store, run, "演示", street="幸福里", born=(1938, 17))
    have = {d.id for d in store.list_devices()}
    for dev in sorted(run.devices, key=lambda d: d.gateway_id is not None):  # gateways first
        if dev.id not in have:
            store.add_device(Device(dev.id, dev.kind, vendor=dev.vendor, model=dev.model,
                                    firmware=dev.firmware, capabilities=dev.capabilities,
                                    resident_id=dev.resident_id, gateway_id=dev.gateway_id,
                                    interval_s=dev.interval_s, created_at=time.time(),
                                    worn_at=dev.worn_at))  # fmt: skip


def ensure_login(store: Store, data_dir: Path, station_id: str) -> Login:
    """The station-staff login ``demo``; its password is generated once and kept in
    ``demo-login.json`` (mode 0600). A user whose password no longer matches is reset."""
    from dashboard.auth import hash_password, verify_password

    path = data_dir / LOGIN_FILE
    login: Login | None = None
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        data = json.loads(path.read_text(encoding="utf-8"))
        login = Login(str(data["user"]), str(data["password"]))
    if login is None:
        login = Login(DEMO_USER, secrets.token_urlsafe(12))
        path.write_text(json.dumps({"user": login.user, "password": login.password}),
                        encoding="utf-8")  # fmt: skip
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
    try:
        user = store.get_user(login.user)
    except NotFound:
        with contextlib.suppress(Conflict):
            pw_hash = hash_password(login.password)
            user = UserRow(
                login.user, "演示值班员", "station_staff", pw_hash, time.time(), station_id
            )
            store.add_user(user)
        return login
    if not verify_password(user.password_hash, login.password) or user.disabled:
        store.update_user(replace(user, password_hash=hash_password(login.password),
                                  disabled=False))  # fmt: skip
    return login


def pick_port(host: str, wanted: int, what: str) -> int:
    """``wanted`` when free (or 0: any), else a free port, saying so."""
    if wanted and port_is_free(host, wanted):
        return wanted
    port = free_port(host)
    if wanted:
        out.print(f"[yellow]note:[/yellow] port {wanted} is taken; {what} uses port {port}")
    return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the simulator gets SIGTERM if the demo dies without stopping it (kill -9)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def start_simulator(opts: DemoOptions, broker_url: str) -> asyncio.subprocess.Process:
    """``python -m device_sim run`` against the embedded broker (MQTT 3.1.1 only, hence
    ``?protocol=3``), at speed 1 on real time, its output in ``simulator.log``. Each run's
    devices announce a new ``boot`` (the run's start), so a hub that kept the sequence
    numbers of an earlier run does not take the new ones for duplicates. Its own process
    group: Ctrl-C in the terminal reaches only the demo, which then stops the simulator
    with SIGTERM."""
    now = time.time()
    data = opts.data_dir
    cmd = [sys.executable, "-m", "device_sim", "run",
           "--scenario", opts.scenario, "--broker", f"{broker_url}?protocol=3",
           "--truth", str(data / "demo-truth.jsonl"), "--no-provision",
           "--speed", "1", "--epoch", f"{now:.3f}", "--anchor", f"{now:.3f}"]  # fmt: skip
    logfile = (data / SIM_LOG).open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            *cmd,
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=logfile,
            process_group=0,
            # only prctl (no locks taken) runs between fork and exec
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    finally:
        logfile.close()


async def stop_simulator(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def _prepare_folder(opts: DemoOptions) -> tuple[Login, list[RoleLogin], str]:
    """Provision the folder's store; return the logins and the station's name."""
    from hub.store import open_store

    opts.data_dir.mkdir(parents=True, exist_ok=True)
    station = load_scenario(opts.scenario).station.name
    store = open_store(db_url(opts.data_dir))
    try:
        login, extras = prepare_all(store, opts.data_dir, opts.scenario)
        return login, extras, station
    finally:
        store.close()


def hub_settings(opts: DemoOptions, http_port: int, mqtt_port: int) -> HubSettings:
    """The hub of the demo: embedded broker, SQLite in the folder (whatever the environment
    or a ``.env`` file says)."""
    from hub.settings import HubSettings

    return HubSettings(
        environment="development", mqtt_url=None, mqtt_password=None, broker_admin_url=None,
        database_url=db_url(opts.data_dir), data_dir=opts.data_dir, http_host=opts.host,
        http_port=http_port, embedded_mqtt_host=opts.host, embedded_mqtt_port=mqtt_port,
    )  # fmt: skip


class _Announce:
    """Receives ``serve``'s start-up lines: learns the broker's address and readiness."""

    def __init__(self, broker_url: str) -> None:
        self.broker_url = broker_url
        self.ready = asyncio.Event()

    def __call__(self, line: str) -> None:
        if m := re.search(r"MQTT broker\s*:\s*(mqtt://\S+)", line):
            self.broker_url = m.group(1)
        if line.startswith("Press Ctrl-C"):
            self.ready.set()
        else:
            out.print(line, style="dim", highlight=False)


def _banner(base: str, login: Login, extras: list[RoleLogin], station: str,
            sim: asyncio.subprocess.Process, log_path: Path) -> None:  # fmt: skip
    out.print(f"\n[bold green]carehub demo is running[/bold green]: {base}/")
    out.print(f"  login     : [bold]{login.user}[/bold]   password: [bold]{login.password}[/bold]"
              "   (station staff)")  # fmt: skip
    for extra in extras:
        out.print(f"  {extra.label:<9} : [bold]{extra.user}[/bold]   password: "
                  f"[bold]{extra.password}[/bold]")  # fmt: skip
    out.print(f"  station   : {station}, an incident about every minute", highlight=False)
    out.print(f"  simulator : pid {sim.pid}, log in {log_path}", highlight=False)
    out.print("Press Ctrl-C to stop.", highlight=False)


async def _first(*aws: asyncio.Future[Any]) -> None:
    await asyncio.wait(aws, return_when=asyncio.FIRST_COMPLETED)


async def run_demo(opts: DemoOptions) -> int:
    """Run until Ctrl-C or SIGTERM; return the exit code (0 on a clean stop)."""
    from carehub.serve import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    out.print(f"preparing the demo station in {opts.data_dir} ...", highlight=False)
    try:
        login, extras, station = await asyncio.to_thread(_prepare_folder, opts)
    except CarehubError as exc:
        out.print(f"[red]error:[/red] {exc}")
        return 2
    http_port = pick_port(opts.host, opts.http_port, "the dashboard")
    mqtt_port = pick_port(opts.host, opts.mqtt_port, "the embedded MQTT broker")
    announce = _Announce(f"mqtt://{opts.host}:{mqtt_port}")
    hub = asyncio.create_task(serve(hub_settings(opts, http_port, mqtt_port), announce=announce))
    stopped = asyncio.ensure_future(stop.wait())
    ready = asyncio.ensure_future(announce.ready.wait())
    await _first(hub, stopped, ready)
    sim: asyncio.subprocess.Process | None = None
    if ready.done() and not stop.is_set() and await _listening(opts.host, http_port, hub):
        # uvicorn took over SIGINT and SIGTERM when it started; take them back so the
        # simulator stops before the broker it publishes to (the hub is then cancelled).
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sim = await start_simulator(opts, announce.broker_url)
        _banner(f"http://{opts.host}:{http_port}", login, extras, station, sim,
                opts.data_dir / SIM_LOG)  # fmt: skip
        sim_done = asyncio.ensure_future(sim.wait())
        await _first(hub, stopped, sim_done)
        if sim_done.done() and not stop.is_set() and not hub.done():
            out.print(f"[yellow]the simulator ended (exit {sim.returncode}); see "
                      f"{opts.data_dir / SIM_LOG}. The dashboard stays up.[/yellow]")  # fmt: skip
            await _first(hub, stopped)
        sim_done.cancel()
    for f in (stopped, ready):
        f.cancel()
    out.print("stopping ...")
    if sim is not None:
        await stop_simulator(sim)
    return await _stop_hub(hub)


async def _listening(host: str, port: int, hub: asyncio.Task[None]) -> bool:
    """Wait until the dashboard accepts connections (False if the hub ended first)."""
    while not hub.done():
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


async def _stop_hub(hub: asyncio.Task[None]) -> int:
    if not hub.done():
        hub.cancel()
    code = 0
    try:
        await hub
    except asyncio.CancelledError:
        pass
    except Exception as exc:  # reported, never a traceback: the demo is a newcomer's first run
        out.print(f"[red]error:[/red] {exc}")
        code = 1
    out.print("stopped.")
    return code


def main(opts: DemoOptions) -> int:
    """Run the demo; the exit code (0 after Ctrl-C or SIGTERM)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return asyncio.run(run_demo(opts))
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        return 130


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(prog="python -m carehub.demo", description="carehub demo")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="dashboard port (0: any free)")
    p.add_argument("--mqtt-port", type=int, default=1883, help="embedded broker port (0: any)")
    p.add_argument("--scenario", default=SCENARIO)
    a = p.parse_args()
    sys.exit(main(DemoOptions(a.data_dir, a.host, a.port, a.mqtt_port, a.scenario)))
