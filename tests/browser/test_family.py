"""The family page on a phone: the elder's status and the recent alert, "I'm going over"
recorded on the alert's timeline, and notification preferences with quiet hours."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.pages import login, press_sos
from tests.browser.server import FAMILY, RESIDENT, RESIDENT_NAME, LiveServer, wait_until
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]


def _open_alert(live: LiveServer) -> Any:
    rows = live.store.list_alerts(resident_id=RESIDENT, states=["open"], limit=10)
    return rows[0] if rows else None


def test_family_sees_the_alert_and_says_they_are_going_over(
    phone_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    with MqttTestClient(mosquitto.url) as wearable:
        press_sos(wearable)
    alert = wait_until("the SOS alert", lambda: _open_alert(live), within=20)

    page = phone_page
    login(page, live.url, FAMILY, lands_on="/static/family.html")
    elder = page.locator(f'section.elder[data-resident-id="{RESIDENT}"]')
    expect(elder.locator(".elder-name")).to_have_text(RESIDENT_NAME)
    expect(elder.locator(".status")).to_have_text("在家")
    expect(elder.locator(".elder-state")).to_have_text("等待服务站响应")
    card = elder.locator(f'li.alert[data-alert-id="{alert.id}"]')
    expect(card.locator(".alert-kind")).to_have_text("紧急求助")
    expect(card.locator(".prio-text")).to_have_text("高")
    # nothing wider than the phone's screen
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    card.locator("button.btn-going").tap()
    expect(card.locator("button.btn-going")).to_have_text("已告知服务站您正在赶去")
    expect(card.locator('li.tl[data-action="going_over"]')).to_contain_text("王军")
    entries = wait_until("the going-over entry", lambda: [
        t for t in live.store.alert_timeline(alert_id=alert.id) if t.action == "going_over"
    ])  # fmt: skip
    assert entries[0].actor == f"user:{FAMILY}"


def test_family_sets_quiet_hours(phone_page: Any, live: LiveServer) -> None:
    from playwright.sync_api import expect

    page = phone_page
    login(page, live.url, FAMILY, lands_on="/static/family.html")
    expect(page.locator(".elder-state")).to_have_text("一切正常")
    page.select_option("#pref-min-priority", "medium")
    page.check("#pref-quiet")
    page.fill("#pref-quiet-from", "21:30")
    page.fill("#pref-quiet-to", "06:45")
    page.click("#prefs-save")
    expect(page.locator("#prefs-saved")).to_be_visible()
    prefs = live.store.get_user(FAMILY).prefs
    assert (prefs["min_priority"], prefs["quiet_hours"]) == ("medium", ["21:30", "06:45"])
