"""``carehub user ...``: create the first admin and manage dashboard users and API tokens.

Registered by ``carehub/cli.py`` as ``app.add_typer(user_app, name="user")``. Works on the
store named by ``--db`` or ``CAREHUB_DATABASE_URL`` (like every registry command).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import replace
from typing import Annotated

import typer
from rich.console import Console

from carehub.cli_support import DbOpt, cli_store
from dashboard.auth import AuthError, hash_password
from dashboard.routers.session import user_json
from hub.store.base import ROLES, Store, UserRow

user_app = typer.Typer(help="Dashboard users (the first admin, staff, families, vendors).",
                       no_args_is_help=True)  # fmt: skip
out = Console()
err = Console(stderr=True)


def _store(db: str | None) -> contextlib.AbstractContextManager[Store]:
    return cli_store(db, refusals=(AuthError,))


def _password(given: str | None) -> str:
    if given is not None:
        return given
    pw: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return pw


@user_app.command("add")
def add(
    user_id: Annotated[str, typer.Argument(help="Login name, e.g. admin or li.na")],
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}")] = "city_admin",
    name: Annotated[str | None, typer.Option(help="Display name (default: the id)")] = None,
    scope: Annotated[str | None, typer.Option(help="City, district, station or vendor id")] = None,
    resident: Annotated[list[str] | None, typer.Option(help="A family member's resident")] = None,
    password: Annotated[
        str | None, typer.Option(help="Prompted for when omitted (keeps it out of history)")
    ] = None,
    language: Annotated[str, typer.Option(help="zh-CN or en")] = "zh-CN",
    db: DbOpt = None,
) -> None:
    """Create a user. The first one is usually the city admin: ``carehub user add admin``."""
    if role not in ROLES:
        err.print(f"[red]error:[/red] unknown role {role!r}; one of {', '.join(ROLES)}")
        raise typer.Exit(2)
    if role == "family" and not resident:
        err.print("[red]error:[/red] a family member needs --resident")
        raise typer.Exit(2)
    if role in ("district_admin", "station_supervisor", "station_staff", "vendor") and not scope:
        err.print(f"[red]error:[/red] a {role} needs --scope")
        raise typer.Exit(2)
    with _store(db) as store:
        for rid in resident or ():
            store.get_resident(rid)
        user = UserRow(user_id, name or user_id, role, hash_password(_password(password)),
                       time.time(), scope, tuple(resident or ()), language)  # fmt: skip
        store.add_user(user)
    out.print(f"user {user_id} ({role}) created")


@user_app.command("list")
def list_users(db: DbOpt = None) -> None:
    """Every user as JSON lines (no password hashes)."""
    with _store(db) as store:
        for u in store.list_users():
            out.print_json(json.dumps(user_json(u), ensure_ascii=False))


@user_app.command("passwd")
def passwd(
    user_id: str, password: Annotated[str | None, typer.Option()] = None, db: DbOpt = None
) -> None:
    """Set a new password and end the user's sessions."""
    with _store(db) as store:
        user = store.get_user(user_id)
        store.update_user(replace(user, password_hash=hash_password(_password(password))))
        store.delete_sessions(user_id=user_id)
    out.print(f"password of {user_id} changed")


@user_app.command("token")
def token(
    user_id: str, name: Annotated[str, typer.Option(help="What the token is for")] = "api",
    db: DbOpt = None,
) -> None:  # fmt: skip
    """Create an API bearer token for a user; it is printed once."""
    from dashboard.auth import Authenticator, LoginLimiter

    with _store(db) as store:
        store.get_user(user_id)
        limiter = LoginLimiter(1, 1, clock=time.time)
        auth = Authenticator(store, secret=b"", session_s=0, limiter=limiter, clock=time.time)
        _, text = auth.new_token(user_id, name)
    out.print(text)
