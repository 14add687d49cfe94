"""Logins, sessions with CSRF, bearer tokens, the login rate limit, and the settings."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard.settings import DashboardSettings
from hub.errors import ConfigError
from tests.dashboard.conftest import PASSWORD, World, error_code


def test_login_sets_httponly_cookie_and_csrf_is_required_for_writes(world: World) -> None:
    c = world.client
    r = c.post("/api/auth/login", json={"user": "station_staff.a", "password": PASSWORD})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    session = next(h for h in cookies if h.startswith("carehub_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    csrf = r.json()["csrf_token"]
    assert c.get("/api/me").json()["user"]["role"] == "station_staff"
    alert = world.alerts["a"]
    r = c.post(f"/api/alerts/{alert}/acknowledge", json={})
    assert r.status_code == 403 and error_code(r) == "csrf"
    r = c.post(f"/api/alerts/{alert}/acknowledge", json={}, headers={"X-CSRF-Token": "nope"})
    assert error_code(r) == "csrf"
    r = c.post(f"/api/alerts/{alert}/acknowledge", json={}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert r.json()["acked_by"] == "user:station_staff.a"
    c.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert error_code(c.get("/api/me")) == "unauthorized"


def _secure(r: Any) -> list[bool]:
    return ["Secure" in h for h in r.headers.get_list("set-cookie")]


def test_secure_cookie_under_tls_said_by_a_trusted_proxy(world: World) -> None:
    ctx = world.app.state.ctx
    ctx.settings.cookie_secure = None
    login = {"user": "city_admin", "password": PASSWORD}
    tls = {"X-Forwarded-Proto": "https"}
    # anyone may send the header: from a peer that is not a trusted proxy it means nothing
    assert _secure(world.client.post("/api/auth/login", json=login, headers=tls)) == [False] * 2
    ctx.proxies = DashboardSettings(trusted_proxies="10.0.0.0/8").proxy_networks()
    via_proxy = TestClient(world.app, client=("10.0.0.2", 40000))  # no lifespan: it runs once
    assert _secure(via_proxy.post("/api/auth/login", json=login, headers=tls)) == [True] * 2
    assert _secure(via_proxy.post("/api/auth/login", json=login)) == [False] * 2


def test_production_forces_secure_cookies(world: World) -> None:
    settings = world.app.state.ctx.settings
    settings.environment = "production"
    settings.cookie_secure = None
    r = world.client.post("/api/auth/login", json={"user": "city_admin", "password": PASSWORD})
    assert _secure(r) == [True] * 2
    with pytest.raises(ConfigError):
        DashboardSettings(environment="production", session_secret="x" * 40, cookie_secure=False)


def test_session_expires(world: World) -> None:
    world.login("city_admin")
    assert world.client.get("/api/me").status_code == 200
    world.clock.t += 13 * 3600
    r = world.client.get("/api/me")
    assert r.status_code == 401 and "expired" in r.json()["error"]["details"]["reason"]


def test_wrong_password_and_rate_limit(world: World) -> None:
    c = world.client
    for _ in range(5):
        r = c.post("/api/auth/login", json={"user": "city_admin", "password": "wrong pass"})
        assert r.status_code == 401
    r = c.post("/api/auth/login", json={"user": "city_admin", "password": PASSWORD})
    assert r.status_code == 429 and error_code(r) == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
    # another account from the same address is not locked out
    ok = c.post("/api/auth/login", json={"user": "station_staff.a", "password": PASSWORD})
    assert ok.status_code == 200
    world.clock.t += 301
    r = c.post("/api/auth/login", json={"user": "city_admin", "password": PASSWORD})
    assert r.status_code == 200


def test_unknown_user_and_disabled_user(world: World) -> None:
    c = world.client
    r = c.post("/api/auth/login", json={"user": "ghost", "password": PASSWORD})
    assert r.status_code == 401 and error_code(r) == "unauthorized"
    h = world.as_user("station_supervisor.a")
    r = c.patch("/api/users/station_staff.a", json={"disabled": True}, headers=h)
    assert r.status_code == 200
    r = c.post("/api/auth/login", json={"user": "station_staff.a", "password": PASSWORD})
    assert r.status_code == 401


def test_bearer_tokens_create_use_revoke(world: World) -> None:
    c = world.client
    h = world.as_user("station_staff.a")
    r = c.post("/api/me/tokens", json={"name": "script", "expires_in_days": 1}, headers=h)
    assert r.status_code == 201
    token, tid = r.json()["token"], r.json()["id"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/me", headers=bearer).json()["user"]["id"] == "station_staff.a"
    # bearer writes need no CSRF token: browsers never attach them by themselves
    r = c.post(f"/api/alerts/{world.alerts['a']}/comments", json={"text": "on it"},
               headers=bearer)  # fmt: skip
    assert r.status_code == 201
    listed = c.get("/api/me/tokens", headers=bearer).json()
    assert "token" not in listed[0] and tid in {t["id"] for t in listed}
    assert c.delete(f"/api/me/tokens/{tid}", headers=bearer).status_code == 200
    assert c.get("/api/me", headers=bearer).status_code == 401
    r = c.get("/api/me", headers={"Authorization": "Bearer chk_forged"})
    assert error_code(r) == "unauthorized"


def test_token_expiry(world: World) -> None:
    h = world.as_user("city_admin")
    r = world.client.post("/api/me/tokens", json={"name": "x", "expires_in_days": 1}, headers=h)
    bearer = {"Authorization": f"Bearer {r.json()['token']}"}
    world.clock.t += 2 * 86400
    assert world.client.get("/api/me", headers=bearer).status_code == 401


def test_production_refuses_placeholder_secret() -> None:
    with pytest.raises(ConfigError):
        DashboardSettings(environment="production", session_secret="changeme")
    with pytest.raises(ConfigError):
        DashboardSettings(environment="production")
    ok = DashboardSettings(environment="production", session_secret="x" * 40)
    assert ok.secret() == b"x" * 40
