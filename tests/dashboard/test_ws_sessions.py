"""Open WebSockets follow their session: a logout, a disabled user, a revoked token or an
expired session closes them (4401), a changed role or scope closes them too (4409) and the
reconnecting client starts from a fresh snapshot in its new scope.

Real WebSockets through the app as ``carehub serve`` runs it (uvicorn, its options), with
the world of ``conftest.py``. The recheck interval is an hour where a change made through
this server must act at once, and 0.2 s where a change made elsewhere (another dashboard
server, the CLI, the clock) must be found by the periodic check; every wait has a generous
timeout and nothing is asserted about how fast it went.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import httpx

from tests.dashboard.conftest import World
from tests.dashboard.served import TIMEOUT, Served

SUP_A, STAFF_A, STAFF_B, FAM_A = (
    "station_supervisor.a", "station_staff.a", "station_staff.b", "family.a",
)  # fmt: skip


async def test_logout_closes_that_sessions_sockets_at_once(serve: Callable[..., Served]) -> None:
    s = serve(3600)
    async with (
        s.login(STAFF_A) as (http, cookie),
        s.login(STAFF_A) as (other, other_cookie),  # a second session of the same user
        s.socket(cookie) as ws,
        s.socket(other_cookie) as stays,
    ):
        assert ws.first["type"] == "snapshot"
        r = await http.post("/api/auth/logout")
        assert r.status_code == 200
        code, reason = await ws.closed()
        assert (code, reason) == (4401, "not logged in")
        await stays.still_open()  # logging out ends one session, not the user's others
        assert (await other.get("/api/me")).status_code == 200


async def test_disabling_a_user_closes_all_their_sockets(serve: Callable[..., Served]) -> None:
    s = serve(3600)
    sup = s.token(SUP_A)
    async with (
        s.login(STAFF_A) as (http, cookie),
        httpx.AsyncClient(base_url=s.url, headers=sup, timeout=TIMEOUT) as admin,
        s.socket(cookie) as by_cookie,
        s.socket(s.token(STAFF_A)) as by_token,
        s.socket(s.token(STAFF_B)) as bystander,
    ):
        r = await admin.patch(f"/api/users/{STAFF_A}", json={"disabled": True})
        assert r.status_code == 200
        assert await by_cookie.closed() == (4401, "not logged in")  # sessions were deleted
        assert await by_token.closed() == (4401, "user disabled")
        await bystander.still_open()
        assert (await http.get("/api/me")).status_code == 401


async def test_a_scope_change_closes_and_the_reconnect_starts_afresh(
    serve: Callable[..., Served],
) -> None:
    s = serve(3600)
    fam = s.token(FAM_A)
    city = s.token("city_admin")
    async with httpx.AsyncClient(base_url=s.url, headers=city, timeout=TIMEOUT) as admin:
        async with s.socket(fam) as ws:
            snap = ws.first
            assert [r["id"] for r in snap["residents"]] == ["r-a"]
            r = await admin.patch(f"/api/users/{FAM_A}", json={"resident_ids": ["r-b"]})
            assert r.status_code == 200
            code, _ = await ws.closed()
            assert code == 4409
        # resuming would replay what the former scope chose: the server sends a snapshot
        query = f"?epoch={snap['epoch']}&last_event_id={snap['last_event_id']}"
        async with s.socket(fam, query) as again:
            assert again.first["type"] == "snapshot"
            assert [r["id"] for r in again.first["residents"]] == ["r-b"]
            await again.still_open()


async def test_moving_a_user_to_another_station_rescopes_their_socket(
    serve: Callable[..., Served],
) -> None:
    s = serve(3600)
    district = s.token("district_admin.pd")
    async with httpx.AsyncClient(base_url=s.url, headers=district, timeout=TIMEOUT) as admin:
        async with s.socket(s.token(STAFF_A)) as ws:
            assert [r["id"] for r in ws.first["residents"]] == ["r-a"]
            r = await admin.patch(f"/api/users/{STAFF_A}", json={"scope_id": "st-b"})
            assert r.status_code == 200 and r.json()["scope_id"] == "st-b"
            assert (await ws.closed())[0] == 4409
        async with s.socket(s.token(STAFF_A)) as again:
            assert [r["id"] for r in again.first["residents"]] == ["r-b"]
        async with s.socket(s.token(SUP_A)) as sup:
            r = await admin.patch(f"/api/users/{SUP_A}", json={"role": "station_staff"})
            assert r.status_code == 200
            assert (await sup.closed())[0] == 4409
        # outside what the district admin manages: refused, and nothing changes
        r = await admin.patch(f"/api/users/{STAFF_B}", json={"scope_id": "st-x"})
        assert r.status_code == 404
        r = await admin.patch(f"/api/users/{STAFF_B}", json={"role": "city_admin"})
        assert r.status_code == 403


async def test_changes_made_elsewhere_are_found_by_the_periodic_check(
    serve: Callable[..., Served], world: World
) -> None:
    s = serve(0.2)
    store = world.store
    token = s.token(STAFF_A)
    async with (
        s.login(STAFF_A) as (_, cookie),
        s.socket(cookie) as by_cookie,
        s.socket(token) as by_token,
    ):
        # another dashboard server logs the session out; the CLI revokes the token
        await asyncio.to_thread(store.delete_sessions, user_id=STAFF_A)
        assert await by_cookie.closed() == (4401, "not logged in")
        [row] = await asyncio.to_thread(store.list_api_tokens, STAFF_A)
        await asyncio.to_thread(store.revoke_api_token, row.id, world.clock())
        assert await by_token.closed() == (4401, "API token revoked or expired")
    async with s.socket(s.token(STAFF_B)) as moved:
        user = await asyncio.to_thread(store.get_user, STAFF_B)  # moved to station a (CLI)
        await asyncio.to_thread(store.update_user, replace(user, scope_id="st-a"))
        assert (await moved.closed())[0] == 4409
    async with s.socket(s.token(SUP_A)) as promoted:
        user = await asyncio.to_thread(store.get_user, SUP_A)
        await asyncio.to_thread(store.update_user, replace(user, role="station_staff"))
        assert (await promoted.closed())[0] == 4409


async def test_an_expired_session_closes_its_socket(
    serve: Callable[..., Served], world: World
) -> None:
    s = serve(0.2)
    async with s.login(STAFF_A) as (_, cookie), s.socket(cookie) as ws:
        checks = s.broadcaster.rechecks
        async with asyncio.timeout(TIMEOUT):  # it has been checked again, and stays
            while s.broadcaster.rechecks < checks + 2:  # noqa: ASYNC110 - a counter of the server's
                await asyncio.sleep(0.05)
        await ws.still_open()
        world.clock.t += 13 * 3600  # past the 12-hour session
        assert await ws.closed() == (4401, "session expired; log in again")
