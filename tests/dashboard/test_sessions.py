"""No silent logout, server side: a browser session slides on while its user is active
(``POST /api/auth/refresh``), up to a maximum after the login; ``/api/me`` says when it
ends so the page can warn; and the session secret is kept in the data directory, so a
restarted hub (the demo included) keeps the consoles logged in."""

from __future__ import annotations

import stat
from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.app import create_app
from dashboard.settings import SECRET_FILE, DashboardSettings
from tests.dashboard.conftest import PASSWORD, T0, World, error_code

HOUR = 3600.0
STAFF = "station_staff.a"


def _me(world: World) -> float:
    r = world.client.get("/api/me")
    assert r.status_code == 200, r.text
    expires: float = r.json()["session_expires_at"]
    return expires


def test_activity_slides_the_session_on(world: World) -> None:
    csrf = world.login(STAFF)
    session_s = world.app.state.ctx.auth.session_s
    assert _me(world) == T0 + session_s

    world.clock.t = T0 + session_s - HOUR  # an hour before the end, the user clicks
    r = world.client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] == world.clock.t + session_s
    assert "carehub_session" in r.headers.get("set-cookie", "")  # the cookie lives on too

    world.clock.t = T0 + session_s + HOUR  # past the first end: still logged in
    assert _me(world) == T0 + 2 * session_s - HOUR

    world.clock.t = T0 + 2 * session_s  # idle past the new end: over
    assert world.client.get("/api/me").status_code == 401


def test_a_session_never_slides_past_its_maximum(world: World) -> None:
    csrf = world.login(STAFF)
    settings = world.app.state.ctx.settings
    last = T0 + settings.session_max_hours * HOUR
    for hours in range(10, int(settings.session_max_hours) + 24, 10):
        world.clock.t = T0 + hours * HOUR
        r = world.client.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})
        if world.clock.t >= last:
            assert r.status_code == 401
            break
        assert r.status_code == 200, r.text
        assert r.json()["expires_at"] <= last
    else:
        raise AssertionError("the session outlived its maximum")


def test_refresh_needs_the_csrf_token_and_a_session(world: World) -> None:
    world.login(STAFF)
    assert error_code(world.client.post("/api/auth/refresh")) == "csrf"
    world.client.cookies.clear()
    r = world.client.post("/api/auth/refresh", headers=world.as_user(STAFF))
    assert error_code(r) == "validation_error"  # an API token has no session to slide


def test_the_secret_is_kept_in_the_data_dir(tmp_path: Path) -> None:
    first = DashboardSettings()
    first.keep_secret_in(tmp_path / "data")
    again = DashboardSettings()
    again.keep_secret_in(tmp_path / "data")
    assert first.secret() == again.secret() and len(first.secret()) >= 32
    mode = stat.S_IMODE((tmp_path / "data" / SECRET_FILE).stat().st_mode)
    assert mode == 0o600, oct(mode)
    configured = DashboardSettings(session_secret="x" * 40)
    configured.keep_secret_in(tmp_path / "data")
    assert configured.secret() == b"x" * 40


def test_a_restarted_dashboard_keeps_the_sessions(world: World, tmp_path: Path) -> None:
    def app() -> TestClient:
        settings = DashboardSettings(cookie_secure=False, ws_heartbeat_s=3600)
        settings.keep_secret_in(tmp_path)
        return TestClient(create_app(world.hub, settings, clock=world.clock),
                          base_url="http://testserver")  # fmt: skip

    before = app()
    r = before.post("/api/auth/login", json={"user": STAFF, "password": PASSWORD})
    assert r.status_code == 200, r.text
    after = app()  # the hub restarted: a new process, the same data dir
    after.cookies.update(before.cookies)
    assert after.get("/api/me").status_code == 200
