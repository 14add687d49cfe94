"""The language switch: zh-CN by default, English on demand, remembered in the user's
preferences (so it survives a reload and another browser), and back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.pages import login
from tests.browser.server import STAFF, LiveServer

pytestmark = [pytest.mark.broker]


def test_language_switch_changes_the_ui_and_is_remembered(
    station_page: Any, live: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, STAFF)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#queue-title")).to_have_text("告警")
    expect(page.locator("#residents-title")).to_have_text("居民")
    expect(page.locator("#logout")).to_have_text("退出")
    expect(page.locator(".tile .status").first).to_have_text("在家")

    page.select_option("#lang-switch", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#queue-title")).to_have_text("Alerts")
    expect(page.locator("#residents-title")).to_have_text("Residents")
    expect(page.locator("#logout")).to_have_text("Log out")
    expect(page.locator(".tile .status").first).to_have_text("At home")
    assert live.store.get_user(STAFF).language == "en"

    page.reload()
    expect(page.locator("#queue-title")).to_have_text("Alerts")
    page.select_option("#lang-switch", "zh-CN")
    expect(page.locator("#queue-title")).to_have_text("告警")
    assert live.store.get_user(STAFF).language == "zh-CN"
