"""What every ``carehub`` sub-command shares: the ``--db`` option and opening the store
with errors reported as one clear line and an exit code (2: cannot open, 1: refused)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hub.errors import CarehubError
from hub.store.base import Store

err = Console(stderr=True)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default: CAREHUB_DATABASE_URL or ./data SQLite)."),
]


def store_url(db: str | None) -> str:
    """``--db``, else the settings' database URL; creates the SQLite folder if needed."""
    from hub.settings import HubSettings

    url = db or HubSettings().resolved_database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


@contextlib.contextmanager
def cli_store(db: str | None, *, refusals: tuple[type[Exception], ...] = ()) -> Iterator[Store]:
    """Open (and migrate) the store for one command; close it afterwards.

    A :class:`~hub.errors.CarehubError` (or one of ``refusals``) raised inside the block is
    printed as ``error: ...`` and ends the command with exit code 1.
    """
    from hub.store import open_store

    try:
        store = open_store(store_url(db))
    except CarehubError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    caught: tuple[type[Exception], ...] = (CarehubError, *refusals)
    try:
        yield store
    except caught as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        store.close()
