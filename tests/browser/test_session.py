"""No silent logout, in the browser: a session that ended on the server keeps the console
on screen, ringing, and asks for the password in place (no page change); after it the
console is live again and acknowledging works. Before a session ends a banner warns with
the time left, and "stay logged in" slides it on (the page's clock is driven by the test)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.pages import login, sos_on_the_console
from tests.browser.server import PASSWORD, STAFF, LiveServer, wait_until

pytestmark = [pytest.mark.broker]


def test_an_ended_session_asks_for_the_password_in_place_and_keeps_ringing(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    row, _ = sos_on_the_console(page, live.url, mosquitto.url, STAFF)
    page.evaluate("window.samePage = true")
    body = page.locator("body")

    live.store.delete_sessions(user_id=STAFF)  # ended on the server (expiry, another PC...)
    row.locator("button.btn-ack").click()

    dialog = page.locator("#relogin")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("登录已结束")
    expect(body).to_have_attribute("data-session", "ended")
    # still on screen and still ringing: the open SOS, and the technical alarm
    expect(row).to_have_attribute("data-state", "open")
    expect(body).to_have_attribute("data-alarm", "ringing-muted")
    expect(body).to_have_attribute("data-tech-alarm", "ringing-muted")
    expect(page.locator("#relogin-user")).to_have_value(STAFF)

    page.fill("#relogin-password", "not the password")
    page.click("#relogin-submit")
    expect(page.locator("#relogin-error")).to_have_text("用户名或密码错误。")
    page.fill("#relogin-password", PASSWORD)
    page.click("#relogin-submit")

    expect(dialog).to_be_hidden()
    assert page.evaluate("window.samePage === true"), "the page was not reloaded"
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(body).to_have_attribute("data-tech-alarm", "off")
    row.locator("button.btn-ack").click()
    expect(row).to_have_attribute("data-state", "acknowledged")
    expect(body).to_have_attribute("data-alarm", "off")


def test_a_warning_before_the_session_ends_and_stay_logged_in(
    station_page: Any, live: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = station_page
    page.clock.install()
    login(page, live.url, STAFF)
    before = _session_ends(page, live)

    page.clock.fast_forward("11:51:00")  # nine minutes before the 12 h session ends
    warning = page.locator("#session-warning")
    expect(warning).to_be_visible(timeout=15_000)
    expect(warning).to_contain_text(re.compile(r"您的登录将在 \d+:\d\d 后结束"))

    page.click("#session-stay")
    expect(warning).to_be_hidden()
    wait_until("the session slid on", lambda: _session_ends(page, live) > before)


def _session_ends(page: Any, live: LiveServer) -> float:
    """When the page's session ends, as the store has it."""
    [cookie] = [c["value"] for c in page.context.cookies() if c["name"] == "carehub_session"]
    ends: float = live.store.get_session(live.app.state.ctx.auth.session_hash(cookie)).expires_at
    return ends
