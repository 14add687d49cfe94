"""``carehub sim eval``, ``replay`` and ``demo``: the simulator run against the hub.

They live here, not in ``device_sim``, because they run the hub (its data path, or all of
it with the dashboard); the simulator itself stays a separate program that only speaks
MQTT. :mod:`carehub.cli` registers them on the ``sim`` command group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from device_sim.cli import _fail, err, print_score
from hub.errors import CarehubError


def eval_cmd(
    scenario: Annotated[str, typer.Option(help="Scenario YAML file or library name.")],
    speed: Annotated[float, typer.Option(min=1, help="Time acceleration.")] = 600.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    db: Annotated[
        str | None, typer.Option(help="An empty store (default: a throwaway SQLite).")
    ] = None,
    days: Annotated[str | None, typer.Option(help="Override the duration (e.g. 2d).")] = None,
    residents: Annotated[int | None, typer.Option(help="Override residents.count.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Keep the database, truth and logs here.")
    ] = None,
    embedded: Annotated[
        bool, typer.Option(help="The embedded broker even if mosquitto is installed.")
    ] = False,
) -> None:
    """Run a scenario fast against a throwaway hub on the simulated clock and score it."""
    import asyncio
    import logging

    from carehub.sim_eval import EvalOptions, evaluate

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    opts = EvalOptions(scenario, speed, db, days, residents, data_dir, embedded, quiet=as_json)
    try:
        res = asyncio.run(evaluate(opts))
    except (CarehubError, RuntimeError, OSError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(res.score))
        return
    print_score(res.info.scenario, res.info.resident_days, res.score)
    mqtt = res.score.get("mqtt", {})
    if mqtt:
        err.print(
            f"MQTT: {mqtt.get('published', '?')} published, {mqtt.get('sent', '?')} sent, "
            f"{mqtt.get('dropped', '?')} dropped while disconnected; the hub counted "
            f"{mqtt.get('hub_telemetry_gaps', '?')} lost (seq gaps)"
        )
    err.print(f"{res.wall_s:.0f} s at speed {speed:g}; broker {res.broker}; store {res.db_url}")


def replay_cmd(
    scenario: Annotated[str, typer.Option(help="Scenario YAML file or library name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    days: Annotated[str | None, typer.Option(help="Override the duration (e.g. 2d).")] = None,
    residents: Annotated[int | None, typer.Option(help="Override residents.count.")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    epoch: Annotated[
        float | None, typer.Option(help="Simulated start, epoch seconds (default: now).")
    ] = None,
) -> None:
    """Replay a scenario through the hub's ingest, detectors and alert engine in this
    process (no broker, no waiting) and score it."""
    import time

    from carehub.sim_replay import replay
    from device_sim.engine import default_epoch
    from device_sim.scenario import load_scenario

    overrides: dict[str, object] = {}
    if days is not None:
        overrides["days"] = days
    if seed is not None:
        overrides["seed"] = seed
    try:
        sc = load_scenario(scenario, **overrides)
        if residents is not None:  # fewer residents: their incidents only
            keep = tuple(i for i in sc.incidents
                         if not isinstance(i.resident, int) or i.resident < residents)  # fmt: skip
            count = sc.residents.model_copy(update={"count": residents})
            sc = sc.model_copy(update={"residents": count, "incidents": keep})
        res = replay(sc, epoch=epoch if epoch is not None else default_epoch(sc, time.time()))
    except CarehubError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({**res.score, "findings": dict(res.findings),
                               "warnings": dict(res.warnings)}))  # fmt: skip
        return
    print_score(res.info.scenario, res.info.resident_days, res.score)
    err.print(f"{res.accepted} messages accepted, {res.refused} refused; warnings "
              f"{dict(res.warnings) or 'none'}; {res.wall_s:.1f} s")  # fmt: skip


def demo_cmd(
    data_dir: Annotated[
        Path, typer.Option(help="Data folder (SQLite, device passwords, demo login); reused.")
    ] = Path("data/demo"),
    host: Annotated[str, typer.Option(help="Address the dashboard and broker listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Dashboard port (taken: a free one; 0: any).")] = 8080,
    mqtt_port: Annotated[
        int, typer.Option(help="Embedded MQTT broker port (taken: a free one; 0: any).")
    ] = 1883,
    scenario: Annotated[str, typer.Option(help="Scenario YAML file or library name.")] = "demo",
) -> None:
    """Hub, dashboard and a simulated station of twenty residents, in one command (Ctrl-C
    stops everything)."""
    from carehub.demo import DemoOptions, main

    code = main(DemoOptions(data_dir, host, port, mqtt_port, scenario))
    if code:
        raise typer.Exit(code)
