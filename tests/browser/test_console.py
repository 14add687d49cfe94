"""The station console in a real browser: staff log in, an SOS published over MQTT by the
wearable appears live at the top of the queue as a high-priority alert (colour, icon, text
and the alarm), one click acknowledges it and the wearable receives "help is coming"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.pages import login, press_sos
from tests.browser.server import RESIDENT_NAME, STAFF, WEARABLE, LiveServer, wait_until
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]


def test_live_sos_is_acknowledged_and_the_wearable_is_told(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, STAFF)
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-alarm", "off")

    with MqttTestClient(mosquitto.url) as wearable:
        wearable.subscribe(f"carehub/v1/devices/{WEARABLE}/cmd")
        press_sos(wearable)

        top = page.locator("#alert-list > li").first
        expect(top).to_have_attribute("data-priority", "high", timeout=20_000)
        expect(top).to_have_attribute("data-state", "open")
        expect(top).to_have_class("alert alert-high alert-open")
        # priority by colour, icon and text; the kind and the resident in words
        expect(top.locator(".prio-icon")).to_have_text("▲")
        expect(top.locator(".prio-text")).to_have_text("高")
        expect(top.locator(".alert-kind")).to_have_text("紧急求助")
        expect(top.locator(".alert-resident")).to_have_text(RESIDENT_NAME)
        color = top.locator(".prio").evaluate("el => getComputedStyle(el).backgroundColor")
        assert color == "rgb(198, 40, 40)"
        # the alarm rings, muted until someone enables sound
        expect(page.locator("body")).to_have_attribute("data-alarm", "ringing-muted")
        expect(page.locator("#sound-toggle")).to_have_text("点击启用声音")
        alert_id = top.get_attribute("data-alert-id")
        assert alert_id
        # the station PC's 1366x768 screen needs no horizontal scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366

        top.locator("button.btn-ack").click()

        [cmd] = wearable.wait_for(lambda m: m.topic.endswith("/cmd"), timeout=20)
    body = json.loads(cmd.payload)
    assert (body["cmd"], body["pattern"], body["alert_id"]) == ("notify", "help_coming", alert_id)
    expect(top).to_have_attribute("data-state", "acknowledged")
    expect(top.locator(".state")).to_have_text("已确认")
    expect(page.locator("body")).to_have_attribute("data-alarm", "off")
    stored = wait_until("the acknowledgement in the store",
                        lambda: live.store.get_alert(alert_id).data["acked_by"])  # fmt: skip
    assert stored == f"user:{STAFF}"


def test_resolve_with_an_outcome_in_one_click(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, STAFF)
    with MqttTestClient(mosquitto.url) as wearable:
        press_sos(wearable)
    top = page.locator("#alert-list > li").first
    expect(top).to_have_attribute("data-state", "open", timeout=20_000)
    alert_id = top.get_attribute("data-alert-id")
    top.locator("button.btn-more").click()  # the row opens its details and resolve buttons
    top.locator('button[data-outcome="false_alarm"]').click()
    expect(page.locator("#alert-list > li")).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()
    row = wait_until("the resolution", lambda: live.store.get_alert(alert_id).data["outcome"])
    assert row == "false_alarm"
