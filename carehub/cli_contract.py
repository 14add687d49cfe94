"""``carehub contract ...``: write or check the published contract files.

``generate`` regenerates ``docs/contract/v1/`` from the models; ``check`` exits 1 when the
committed files are stale (CI runs it, and so does the test suite).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.contract.generate import DEFAULT_OUT_DIR, REGENERATE_COMMAND, diff, write_all

contract_app = typer.Typer(
    help="The published device contract: JSON Schemas and the AsyncAPI document.",
    no_args_is_help=True,
)

OutDir = Annotated[
    Path,
    typer.Option("--out", help="Directory of the generated files.", file_okay=False),
]


@contract_app.command()
def generate(out: OutDir = DEFAULT_OUT_DIR) -> None:
    """Write the JSON Schemas and asyncapi.yaml; print the files that changed."""
    changed = write_all(out)
    for name in changed:
        typer.echo(f"wrote {out / name}")
    if not changed:
        typer.echo(f"{out}: up to date")


@contract_app.command()
def check(out: OutDir = DEFAULT_OUT_DIR) -> None:
    """Exit 1 when a generated file is missing or differs from the models."""
    stale = diff(out)
    if stale:
        for name in stale:
            typer.echo(f"out of date: {out / name}", err=True)
        typer.echo(f"regenerate with: {REGENERATE_COMMAND} --out {out}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"{out}: up to date")
