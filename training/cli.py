"""``carehub eval falls``: evaluate the fall detector on recorded data sets.

Registered by the main CLI as ``carehub eval``. Examples: SisFall waist at 50 Hz, 5-fold
subject-grouped cross-validation; FallAllD's wrist recordings at 50 Hz by a detector
calibrated on SisFall and UMAFall only (cross-data-set)::

    carehub eval falls --data ../shared/data/sisfall --rate 50 --cv 5 --json
    carehub eval falls --train-on ../shared/data/sisfall,../shared/data/umafall \
        --data ../shared/data/fallalld --position wrist --rate 50 --json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from training.calibrate_falls import Candidates

eval_app = typer.Typer(help="Evaluate detectors on recorded data sets.", no_args_is_help=True)

DEFAULT_RATE = 50.0


@eval_app.callback()
def _group() -> None:
    """Evaluate detectors on recorded data sets."""


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def _num(v: Any, fmt: str = "{:.2f}") -> str:
    return "—" if v is None else fmt.format(v)


def _table(result: dict[str, Any]) -> Table:
    table = Table(title="Fall detection, per recording")
    for col in ("detector", "group", "recordings", "falls", "sensitivity", "specificity",
                "false alarms/h", "latency median s", "latency p90 s"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("detector", "group") else "right")
    rows: list[tuple[str, dict[str, Any]]] = [("carehub", result)]
    rows += [(name, res) for name, res in result["baselines"].items()]
    for name, res in rows:
        for group, m in [("all", res), *res.get("groups", {}).items()]:
            table.add_row(
                name if group == "all" else "",
                group,
                str(m["n_recordings"]),
                str(m["n_falls"]),
                _pct(m["sensitivity"]),
                _pct(m["specificity"]),
                _num(m["false_alarms_per_hour"]),
                _num(m["latency_median_s"]),
                _num(m["latency_p90_s"]),
            )
    return table


def _training_candidates(dirs: list[Path], position: str | None) -> Candidates:
    """Candidates of the training data sets as the shipped calibration takes them: every
    calibration rate, the positions of ``position``'s model (all models without one)."""
    from training.calibrate_falls import (
        DEFAULT_POSITIONS,
        DEFAULT_RATES,
        POSITION_MODELS,
        load_candidates,
    )
    from training.datasets import DatasetError

    positions: tuple[str, ...] = DEFAULT_POSITIONS
    if position:
        pos = position.lower()
        learn = [frm for frm, serves in POSITION_MODELS.values() if pos in serves]
        positions = learn[0] if learn else (position.upper(),)
    cands = load_candidates(dirs, DEFAULT_RATES, positions)
    if not cands.recordings:
        raise DatasetError(f"no recordings to train on for position {position!r}")
    return cands


@eval_app.command("falls")
def falls(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="Data set directory (or a directory of data sets). "
            "Default: $CAREHUB_FALL_DATA or ../shared/data.",
        ),
    ] = None,
    position: Annotated[
        str | None, typer.Option("--position", help="Sensor position, e.g. wrist, waist.")
    ] = None,
    rate: Annotated[
        float, typer.Option("--rate", help="Device rate in Hz the recordings are resampled to.")
    ] = DEFAULT_RATE,
    cv: Annotated[
        int | None,
        typer.Option("--cv", help="Rerun the calibration with K subject-grouped folds."),
    ] = None,
    train_on: Annotated[
        str | None,
        typer.Option(
            "--train-on",
            help="Calibrate on these data set directories (comma-separated) and test on "
            "--data: the cross-data-set protocol. With --position, only that position's "
            "model is trained.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Sensitivity, specificity, false alarms/h and latency, with two baselines."""
    # Imported here, not at the top: `carehub` registers this command in every process,
    # `carehub serve` included, and the readers pull in scipy (about 70 MB resident).
    from training.datasets import DatasetError, default_data_dir, load, manifests
    from training.falls import evaluate

    err = Console(stderr=True)
    root = data if data is not None else default_data_dir()
    if not 20.0 <= rate <= 200.0:
        err.print("[red]--rate must be between 20 and 200 Hz[/red]")
        raise typer.Exit(2)
    if cv is not None and cv < 2:
        err.print("[red]--cv needs at least 2 folds[/red]")
        raise typer.Exit(2)
    if cv is not None and train_on is not None:
        err.print("[red]--cv and --train-on are two protocols: give one[/red]")
        raise typer.Exit(2)
    train_dirs = [Path(d.strip()) for d in train_on.split(",") if d.strip()] if train_on else []
    if train_on is not None and not train_dirs:
        err.print("[red]--train-on needs at least one data set directory[/red]")
        raise typer.Exit(2)
    try:
        for d in [root, *train_dirs]:
            manifests(d)
        with err.status(f"loading {root} at {rate:g} Hz"):
            recs = load(root, rate, position)
        cands = None
        if train_dirs:
            with err.status(f"calibration candidates of {', '.join(map(str, train_dirs))}"):
                cands = _training_candidates(train_dirs, position)
    except (DatasetError, OSError, KeyError) as exc:
        err.print(f"[red]cannot read the data: {exc}[/red]")
        raise typer.Exit(2) from exc
    if not recs:
        err.print(f"[red]no recordings in {root} for position {position!r}[/red]")
        raise typer.Exit(2)
    total = len(recs) * (2 if cv else 1)
    progress = Progress(
        TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=as_json,
    )  # fmt: skip
    try:
        with progress:
            task = progress.add_task("falls", total=total)
            result = evaluate(recs, cv=cv, tick=lambda n: progress.advance(task, n), train_on=cands)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    result["data"] = {
        "position": position,
        "rate_hz": rate,
        "datasets": sorted({r.dataset for r in recs}),
    }
    if train_dirs:
        result["data"]["train_on"] = [str(d) for d in train_dirs]
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        Console(width=None if sys.stdout.isatty() else 160).print(_table(result))
