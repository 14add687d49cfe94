"""``carehub sim``: run scenarios against a hub, score its alerts, generate load.

:mod:`carehub.cli` registers :data:`sim_app` as ``carehub sim`` and adds the two commands
that start a hub of their own (``eval`` and ``demo``, in :mod:`carehub.sim_commands`);
``python -m device_sim`` runs the simulator's own commands alone.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from device_sim.clock import AcceleratedClock
from device_sim.engine import build_run, default_epoch
from device_sim.incidents import read_truth, write_sent, write_truth
from device_sim.scenario import load_scenario
from hub.errors import CarehubError

sim_app = typer.Typer(
    help="Simulated residents and devices; scoring against ground truth.", no_args_is_help=True
)
err = Console(stderr=True)
DB_ENV = "CAREHUB_DATABASE_URL"


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


@sim_app.command("run")
def run_cmd(
    scenario: Annotated[str, typer.Option(help="Scenario YAML file or library name.")],
    broker: Annotated[str, typer.Option(help="Broker URL, mqtt://host:port[?protocol=3].")],
    truth: Annotated[Path, typer.Option(help="Where to write the ground truth (JSON Lines).")],
    speed: Annotated[
        float | None, typer.Option(help="Time acceleration (default: the scenario's).")
    ] = None,
    db: Annotated[str | None, typer.Option(help=f"Store URL (default ${DB_ENV}).")] = None,
    credentials: Annotated[
        Path | None, typer.Option(help="Device passwords file (reused).")
    ] = None,
    epoch: Annotated[float | None, typer.Option(help="Simulated start time (epoch s).")] = None,
    anchor: Annotated[float | None, typer.Option(help="Wall time at which the run starts.")] = None,
    residents: Annotated[int | None, typer.Option(help="Override residents.count.")] = None,
    days: Annotated[str | None, typer.Option(help="Override the duration (e.g. 7d, 2h).")] = None,
    no_provision: Annotated[bool, typer.Option(help="Use the credentials file only.")] = False,
) -> None:
    """Provision the scenario's devices and publish it over MQTT from this process."""
    overrides: dict[str, object] = {}
    if residents is not None:
        overrides["residents"] = {"count": residents}
    if days is not None:
        overrides["days"] = days
    try:
        sc = load_scenario(scenario, **overrides)
    except CarehubError as exc:
        raise _fail(str(exc)) from None
    from device_sim.publisher import url_protocol

    try:
        url_protocol(broker)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    start = epoch if epoch is not None else default_epoch(sc)
    run = build_run(sc, start)
    creds = credentials or truth.with_suffix(".credentials.json")
    passwords: dict[str, str] = {}
    if creds.exists():
        passwords = json.loads(creds.read_text(encoding="utf-8"))
    if not no_provision:
        url = db or os.environ.get(DB_ENV)
        if not url:
            raise _fail(f"no store: pass --db or set {DB_ENV} (or --no-provision)")
        from device_sim.provision import provision_run
        from hub.store import open_store

        try:
            store = open_store(url)
            try:
                passwords = provision_run(store, run, creds)
            finally:
                store.close()
        except CarehubError as exc:
            raise _fail(f"provisioning failed: {exc}") from None
    write_truth(truth, run.info, run.truth)
    # The run's messages (hundreds of thousands of objects for a week) live until the end:
    # out of the garbage collector's way, whose full passes over them would pause
    # publishing for a large fraction of a second (minutes of silence at high speed).
    gc.collect()
    gc.freeze()
    clock = AcceleratedClock(
        start,
        anchor if anchor is not None else time.time(),
        speed if speed is not None else sc.speed,
    )
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    err.print(
        f"{sc.name}: {len(run.homes)} residents, {len(run.devices)} devices, "
        f"{len(run.messages)} messages, {len(run.truth)} incidents, speed {clock.speed}"
    )
    from device_sim.runner import publish_run

    try:
        counts = publish_run(
            run,
            broker,
            clock,
            passwords,
            stop=stop,
            progress=lambda n, t: err.print(f"  {n} sent, sim time +{(t - start) / 3600:.1f} h"),
        )
    except ConnectionError as exc:
        raise _fail(str(exc)) from None
    _report_sent(counts.as_dict(), truth)


def _report_sent(counts: dict[str, int], truth: Path) -> None:
    """Say what really left the simulator, and keep it beside the truth for scoring."""
    err.print(
        f"done: {counts['published']} messages published, {counts['sent']} sent (confirmed "
        f"by the MQTT client), {counts['dropped']} dropped while disconnected, "
        f"{counts['in_flight']} in flight at the end; truth in {truth}"
    )
    write_sent(truth, counts)


@sim_app.command("score")
def score_cmd(
    truth: Annotated[Path, typer.Option(help="Ground truth written by `sim run`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    db: Annotated[str | None, typer.Option(help=f"Store URL (default ${DB_ENV}).")] = None,
) -> None:
    """Match the hub's alerts in the store to the ground truth."""
    from device_sim.score import occurrences_from_store, score
    from hub.store import open_store

    url = db or os.environ.get(DB_ENV)
    if not url:
        raise _fail(f"no store: pass --db or set {DB_ENV}")
    try:
        info, records = read_truth(truth)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    try:
        store = open_store(url)
        try:
            result = score(info, records, occurrences_from_store(store, info))
        finally:
            store.close()
    except CarehubError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result))
        return
    print_score(info.scenario, info.resident_days, result)


def print_score(scenario: str, resident_days: float, result: dict[str, Any]) -> None:
    """The score as a table (what ``sim score`` and ``sim eval`` print without ``--json``)."""
    from rich.table import Table

    table = Table(title=f"{scenario}: {resident_days:.1f} resident-days")
    for col in ("kind", "incidents", "alerts", "recall", "precision", "p50 s", "p90 s"):
        table.add_column(col)
    for kind, k in result["kinds"].items():
        table.add_row(
            kind,
            str(k["incidents"]),
            str(k["alerts"]),
            *(
                f"{k[c]:.2f}" if k[c] is not None else "-"
                for c in ("recall", "precision", "delay_p50_s", "delay_p90_s")
            ),
        )
    Console().print(table)
    Console().print(
        f"false alerts: {result['false_alerts']}, per resident-day: "
        f"{result['false_alerts_per_resident_day']}"
    )


@sim_app.command("load")
def load_cmd(
    devices: Annotated[int, typer.Option(min=1, help="How many devices (half wearables).")],
    broker: Annotated[str, typer.Option(help="Broker URL, mqtt://[user:pass@]host:port.")],
    processes: Annotated[int, typer.Option(min=1, help="Publishing processes.")] = 2,
    duration: Annotated[str, typer.Option(help="How long: 60s, 5m...")] = "60s",
    rate_per_device: Annotated[
        float | None, typer.Option(help="Fixed messages/s per device (default: realistic).")
    ] = None,
    connections: Annotated[int, typer.Option(min=1, help="MQTT connections per process.")] = 4,
    qos: Annotated[int, typer.Option(min=0, max=1)] = 1,
    acc_bursts_per_hour: Annotated[
        float, typer.Option(min=0, help="Acceleration bursts per wearable and hour.")
    ] = 0.0,
    prefix: Annotated[str, typer.Option(help="Device id prefix.")] = "load",
    db: Annotated[
        str | None, typer.Option(help="Register the devices in this store first.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Publish for thousands of devices from several processes, with a live rate table."""
    from rich.live import Live
    from rich.table import Table

    from device_sim.load import LoadSpec, provision_load, run_load
    from device_sim.scenario import parse_duration

    try:
        spec = LoadSpec(devices, processes, parse_duration(duration), rate_per_device,
                        connections, qos, prefix, acc_bursts_per_hour)  # fmt: skip
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if db is not None:
        from hub.store import open_store

        try:
            store = open_store(db)
            try:
                added = provision_load(store, spec)
            finally:
                store.close()
        except CarehubError as exc:
            raise _fail(f"provisioning failed: {exc}") from None
        err.print(f"{added} devices registered ({devices - added} were already)")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    last: dict[str, Any] = {"t": time.monotonic(), "sent": [0] * processes}

    def table(sent: list[int], elapsed: float) -> Table:
        dt = max(time.monotonic() - last["t"], 1e-6)
        t = Table("process", "sent", "msg/s", title=f"load: {devices} devices, {elapsed:.0f} s")
        rates = [(s - p) / dt for s, p in zip(sent, last["sent"], strict=True)]
        for i, (s, r) in enumerate(zip(sent, rates, strict=True)):
            t.add_row(str(i), str(s), f"{r:.0f}")
        t.add_row("total", str(sum(sent)), f"{sum(rates):.0f}", style="bold")
        last.update(t=time.monotonic(), sent=sent)
        return t

    with Live(console=err, refresh_per_second=2, transient=as_json) as live:
        try:
            result = run_load(spec, broker, stop=stop,
                              report=lambda s, e: live.update(table(s, e)))  # fmt: skip
        except (ConnectionError, OSError) as exc:
            raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(result.as_json()))
    else:
        err.print(f"sent {result.sent} ({result.rate:.0f}/s), acked {result.acked}, "
                  f"errors {result.errors}")  # fmt: skip
