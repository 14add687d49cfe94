"""Users: list and manage the people of your scope (a supervisor: their station's staff and
families; a district admin: their stations; a city admin: everyone)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Query
from pydantic import Field, field_validator

from dashboard.deps import Caller, CtxDep, allowed
from dashboard.errors import forbidden, not_found
from dashboard.messages import check_language
from dashboard.routers import ApiModel, api_router
from dashboard.routers.session import user_json
from dashboard.scope import MANAGES, Scope, may_manage
from hub.registry.provisioning import check_id
from hub.store.base import Role, Store, UserRow
from hub.timezones import check_timezone

router = api_router("/users", "users")


class UserIn(ApiModel):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=8, max_length=256)
    scope_id: str | None = None
    resident_ids: list[str] = Field(default_factory=list, max_length=20)
    language: str = "zh-CN"
    timezone: str | None = Field(
        None, max_length=64, description="IANA time zone; null: CAREHUB_DEFAULT_TIMEZONE."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    _known_language = field_validator("language")(check_language)


class UserPatch(ApiModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    role: Role | None = Field(None, description="Within the roles you manage.")
    scope_id: str | None = Field(
        None, max_length=64, description="Another station (district...) you manage."
    )
    password: str | None = Field(None, min_length=8, max_length=256)
    disabled: bool | None = None
    resident_ids: list[str] | None = Field(None, max_length=20)


def _check_manages(scope: Scope, store: Store, target: UserRow) -> None:
    """A role the caller may not manage is 403; a station or resident outside their scope
    is 404, as if it did not exist."""
    if target.role not in MANAGES.get(scope.role, frozenset()):
        raise forbidden(f"a {scope.role} may not manage a {target.role}")
    if not may_manage(scope, store, target):
        what = "residents" if target.role == "family" else "scope"
        raise not_found(f"{what} {target.scope_id or list(target.resident_ids)!r}")


@router.get("", summary="Users you manage")
async def list_users(
    ctx: CtxDep, caller: Annotated[Caller, allowed("users.read")],
    role: Annotated[Role | None, Query()] = None,
) -> list[dict[str, Any]]:  # fmt: skip
    def work() -> list[dict[str, Any]]:
        rows = ctx.store.list_users(role=role)
        return [user_json(u) for u in rows
                if u.id == caller.user_id or may_manage(caller.scope, ctx.store, u)]  # fmt: skip

    return await asyncio.to_thread(work)


@router.post("", status_code=201, summary="Create a user in your scope")
async def create_user(
    body: UserIn, ctx: CtxDep, caller: Annotated[Caller, allowed("users.write")]
) -> dict[str, Any]:
    check_id(body.id, "user id")
    user = UserRow(
        body.id, body.name, body.role, await ctx.auth.hashing.hash(body.password), ctx.clock(),
        body.scope_id, tuple(body.resident_ids), body.language,
        body.timezone or ctx.hub.settings.default_timezone,
    )  # fmt: skip

    def work() -> UserRow:
        _check_manages(caller.scope, ctx.store, user)
        ctx.store.add_user(user)
        return user

    return user_json(await asyncio.to_thread(work))


@router.patch(
    "/{user_id}", summary="Rename, reset the password, disable, relink, move or change role"
)
async def update_user(
    user_id: str, body: UserPatch, ctx: CtxDep, caller: Annotated[Caller, allowed("users.write")]
) -> dict[str, Any]:
    new_hash = None if body.password is None else await ctx.auth.hashing.hash(body.password)

    def work() -> UserRow:
        user = ctx.store.get_user(user_id)
        if not may_manage(caller.scope, ctx.store, user):
            raise not_found(f"user {user_id!r}")
        changes: dict[str, Any] = {}
        if body.name is not None:
            changes["name"] = body.name
        if body.role is not None:
            changes["role"] = body.role
        if body.scope_id is not None:
            changes["scope_id"] = body.scope_id
        if new_hash is not None:
            changes["password_hash"] = new_hash
        if body.disabled is not None:
            changes["disabled"] = body.disabled
        if body.resident_ids is not None:
            changes["resident_ids"] = tuple(body.resident_ids)
        updated = replace(user, **changes)
        _check_manages(caller.scope, ctx.store, updated)
        ctx.store.update_user(updated)
        if body.disabled or body.password is not None:
            ctx.store.delete_sessions(user_id=user_id)
        return updated

    updated = await asyncio.to_thread(work)
    if ctx.broadcaster is not None:
        ctx.broadcaster.recheck_soon()  # their open WebSockets: closed (4401), rescoped (4409)
    return user_json(updated)
