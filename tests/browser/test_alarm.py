"""The high-priority alarm on every page of the station app, and a mute that ends by
itself: staff on a resident's detail page hear an SOS of another resident's; muting shows
the time left, holds when they go back to the console, and ends after two minutes (the
page's clock is driven by the test, never waited for)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.pages import login, press_sos
from tests.browser.server import RESIDENT, STAFF, LiveServer
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]


def test_the_alarm_rings_on_the_detail_page_and_a_mute_is_timed(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    page.clock.install()
    login(page, live.url, STAFF)
    page.goto(f"{live.url}/static/resident.html?id={RESIDENT}")
    page.wait_for_selector('#conn[data-state="live"]')
    body, sound = page.locator("body"), page.locator("#sound-toggle")
    expect(body).to_have_attribute("data-alarm", "off")

    with MqttTestClient(mosquitto.url) as wearable:
        press_sos(wearable)
    expect(body).to_have_attribute("data-alarm", "ringing-muted", timeout=20_000)
    expect(sound).to_have_text("点击启用声音")
    sound.click()  # the gesture that lets the page play sound
    expect(body).to_have_attribute("data-alarm", "ringing")
    expect(sound).to_have_text("声音已开启")

    sound.click()  # mute: visible, with the time left
    expect(body).to_have_attribute("data-alarm", "muted")
    expect(sound).to_have_text(re.compile(r"已静音，剩余 [12]:\d\d"))

    # the mute holds on the other pages of the station app
    page.goto(f"{live.url}/static/index.html")
    page.wait_for_selector('#conn[data-state="live"]')
    expect(body).to_have_attribute("data-alarm", "muted")
    expect(page.locator("#sound-toggle")).to_have_text(re.compile(r"已静音，剩余 [01]:\d\d"))

    # ...and ends by itself: the alarm is back (this new page awaits a click for sound)
    page.clock.fast_forward("02:05")
    expect(body).to_have_attribute("data-alarm", "ringing-muted")
    expect(page.locator("#sound-toggle")).to_have_text("点击启用声音")
    page.wait_for_selector('#conn[data-state="live"]', timeout=30_000)
