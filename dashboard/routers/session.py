"""Login, logout, who am I, my preferences and my API tokens."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from fastapi import Request, Response
from pydantic import Field

from dashboard.auth import CSRF_COOKIE, SESSION_COOKIE
from dashboard.deps import CallerDep, CtxDep
from dashboard.errors import ApiError, invalid
from dashboard.messages import LANGUAGES
from dashboard.proxies import client_address, scheme
from dashboard.routers import ApiModel, api_router
from hub.store.base import UserRow
from hub.timezones import UnknownTimezone, check_timezone

router = api_router("", "session")


class LoginIn(ApiModel):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PrefsIn(ApiModel):
    language: str | None = None
    timezone: str | None = None
    prefs: dict[str, Any] | None = Field(
        None, description='e.g. {"min_priority": "high", "quiet_hours": ["22:00", "07:00"]}'
    )


class TokenIn(ApiModel):
    name: str = Field(min_length=1, max_length=64)
    expires_in_days: float | None = Field(None, gt=0, le=3650)


def user_json(u: UserRow) -> dict[str, Any]:
    return {
        "id": u.id, "name": u.name, "role": u.role, "scope_id": u.scope_id,
        "resident_ids": list(u.resident_ids), "language": u.language, "timezone": u.timezone,
        "disabled": u.disabled, "prefs": u.prefs, "created_at": u.created_at,
    }  # fmt: skip


def _secure(request: Request, ctx: CtxDep) -> bool:
    if ctx.settings.production:
        return True
    if ctx.settings.cookie_secure is not None:
        return ctx.settings.cookie_secure
    return scheme(request, ctx.proxies) == "https"


@router.post("/auth/login", summary="Log in: sets the session and CSRF cookies")
async def login(body: LoginIn, request: Request, response: Response, ctx: CtxDep) -> dict[str, Any]:
    new = await ctx.auth.login(body.user, body.password, client_address(request, ctx.proxies))
    secure = _secure(request, ctx)
    max_age = int(new.expires_at - ctx.clock())
    response.set_cookie(SESSION_COOKIE, new.cookie, max_age=max_age, httponly=True,
                        samesite="lax", secure=secure, path="/")  # fmt: skip
    # readable by the page's script, which echoes it in the X-CSRF-Token header
    response.set_cookie(CSRF_COOKIE, new.csrf_token, max_age=max_age, httponly=False,
                        samesite="strict", secure=secure, path="/")  # fmt: skip
    return {"user": user_json(new.user), "csrf_token": new.csrf_token,
            "expires_at": new.expires_at, "server_time": ctx.clock()}  # fmt: skip


def _set_cookies(response: Response, secure: bool, cookie: str, csrf: str, max_age: int) -> None:
    response.set_cookie(SESSION_COOKIE, cookie, max_age=max_age, httponly=True,
                        samesite="lax", secure=secure, path="/")  # fmt: skip
    # readable by the page's script, which echoes it in the X-CSRF-Token header
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False,
                        samesite="strict", secure=secure, path="/")  # fmt: skip


@router.post("/auth/refresh", summary="Stay logged in: slide the session on (sessions only)")
async def refresh(
    request: Request, response: Response, ctx: CtxDep, caller: CallerDep
) -> dict[str, Any]:
    """The pages call this while their user is active, and from the "stay logged in"
    button of the warning shown before the session ends."""
    cookie = request.cookies.get(SESSION_COOKIE)
    session = caller.principal.session
    if cookie is None or session is None:
        raise ApiError(400, "validation_error", "only a browser session can be refreshed")
    max_s = ctx.settings.session_max_hours * 3600
    expires = await asyncio.to_thread(ctx.auth.extend, cookie, max_s)
    _set_cookies(response, _secure(request, ctx), cookie, session.csrf_token,
                 int(expires - ctx.clock()))  # fmt: skip
    return {"expires_at": expires, "session_s": ctx.auth.session_s, "server_time": ctx.clock()}


@router.post("/auth/logout", summary="Log out: ends the session")
async def logout(
    request: Request, response: Response, ctx: CtxDep, caller: CallerDep
) -> dict[str, bool]:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await asyncio.to_thread(ctx.auth.logout, cookie)
    if ctx.broadcaster is not None:
        ctx.broadcaster.recheck_soon()  # this session's WebSockets close now
    secure = _secure(request, ctx)  # a Secure cookie is replaced by a Secure one only
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True,
                           samesite="lax")  # fmt: skip
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="strict")
    return {"ok": True}


@router.get("/me", summary="The caller, their role and what they may do")
async def me(caller: CallerDep, ctx: CtxDep) -> dict[str, Any]:
    from dashboard.scope import PERMISSIONS

    s = caller.scope
    return {
        "user": user_json(caller.principal.user),
        "stations": None if s.station_ids is None else sorted(s.station_ids),
        "may": sorted(a for a in PERMISSIONS if s.can(a)),
        # when the browser session ends unless the user is active (null: an API token)
        "session_expires_at": caller.principal.session.expires_at
        if caller.principal.session is not None
        else None,
        "server_time": ctx.clock(),  # pages time the session by the server's clock, not theirs
    }


@router.patch("/me", summary="Change my language, time zone and notification preferences")
async def update_me(body: PrefsIn, ctx: CtxDep, caller: CallerDep) -> dict[str, Any]:
    user = await asyncio.to_thread(ctx.store.get_user, caller.user_id)
    changes: dict[str, Any] = {}
    if body.language is not None:
        if body.language not in LANGUAGES:
            raise invalid("language", f"language is one of {', '.join(LANGUAGES)}")
        changes["language"] = body.language
    if body.timezone is not None:
        try:
            check_timezone(body.timezone)
        except UnknownTimezone as exc:
            raise invalid("timezone", str(exc)) from None
        changes["timezone"] = body.timezone
    if body.prefs is not None:
        changes["prefs"] = _check_prefs(body.prefs)
    user = replace(user, **changes)
    await asyncio.to_thread(ctx.store.update_user, user)
    return user_json(user)


def _check_prefs(prefs: dict[str, Any]) -> dict[str, Any]:
    """Notification preferences: min priority and quiet hours (HH:MM, may wrap midnight)."""
    import re

    out = dict(prefs)
    if "min_priority" in out and out["min_priority"] not in ("high", "medium", "low"):
        raise invalid("prefs", "min_priority is high, medium or low")
    quiet = out.get("quiet_hours")
    if quiet is not None:
        ok = isinstance(quiet, list) and len(quiet) == 2 and all(
            isinstance(t, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", t) for t in quiet
        )  # fmt: skip
        if not ok:
            raise invalid("prefs", 'quiet_hours is ["HH:MM", "HH:MM"] or null')
    return out


@router.get("/me/tokens", summary="My API tokens (never their values)")
async def my_tokens(ctx: CtxDep, caller: CallerDep) -> list[dict[str, Any]]:
    rows = await asyncio.to_thread(ctx.store.list_api_tokens, caller.user_id)
    return [
        {"id": t.id, "name": t.name, "created_at": t.created_at, "expires_at": t.expires_at,
         "revoked_at": t.revoked_at}
        for t in rows
    ]  # fmt: skip


@router.post("/me/tokens", status_code=201, summary="Create an API token (shown once)")
async def new_token(body: TokenIn, ctx: CtxDep, caller: CallerDep) -> dict[str, Any]:
    expires = ctx.clock() + body.expires_in_days * 86400 if body.expires_in_days else None
    row, token = await asyncio.to_thread(ctx.auth.new_token, caller.user_id, body.name, expires)
    return {"id": row.id, "name": row.name, "token": token, "expires_at": expires}


@router.delete("/me/tokens/{token_id}", summary="Revoke one of my API tokens")
async def revoke_token(token_id: str, ctx: CtxDep, caller: CallerDep) -> dict[str, bool]:
    mine = await asyncio.to_thread(ctx.store.list_api_tokens, caller.user_id)
    if token_id not in {t.id for t in mine}:
        raise ApiError(404, "not_found", f"API token {token_id!r}")
    await asyncio.to_thread(ctx.store.revoke_api_token, token_id, ctx.clock())
    return {"ok": True}
