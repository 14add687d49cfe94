"""The station console in a real browser: staff log in, an SOS published over MQTT by the
wearable appears live at the top of the queue as a high-priority alert (colour, icon, text
and the alarm), one click acknowledges it and the wearable receives "help is coming"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.pages import login, press_sos, sos_on_the_console
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


def test_resolve_with_an_outcome_a_note_and_a_confirmation(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    top, alert_id = sos_on_the_console(page, live.url, mosquitto.url, STAFF)
    top.locator("button.btn-more").click()  # the row opens its details and resolve form
    top.locator("button.btn-resolve").click()  # no outcome chosen: refused, nothing sent
    expect(top.locator(".form-error")).to_have_text("请先选择处理结果。")
    top.locator("select.resolve-outcome").select_option("false_alarm")
    top.locator("input.resolve-note").fill("老人误按，电话确认无事")
    top.locator("button.btn-resolve").click()
    # an SOS nobody acknowledged: asks first, and cancelling leaves it open
    confirm = top.locator(".resolve-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("这条紧急求助还没有人确认")
    confirm.locator("button.btn-cancel").click()
    expect(confirm).to_be_hidden()
    expect(top).to_have_attribute("data-state", "open")
    top.locator("button.btn-resolve").click()
    confirm.locator("button.btn-confirm").click()
    expect(page.locator("#alert-list > li")).to_have_count(0)
    expect(page.locator("#queue-empty")).to_be_visible()
    row = wait_until("the resolution", lambda: live.store.get_alert(alert_id).data["outcome"])
    assert row == "false_alarm"
    assert live.store.get_alert(alert_id).data["note"] == "老人误按，电话确认无事"


def test_assign_and_comment_from_the_row(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    top, alert_id = sos_on_the_console(page, live.url, mosquitto.url, STAFF)
    top.locator("button.btn-more").click()
    top.locator("button.btn-assign-me").click()
    expect(top.locator(".alert-facts")).to_contain_text(f"指派给 {STAFF}")
    top.locator("input.comment-text").fill("已联系儿子王军")
    top.locator("button.btn-comment").click()
    expect(top.locator("input.comment-text")).to_have_value("")

    def comments() -> list[Any]:
        return [e for e in live.store.alert_timeline(alert_id=alert_id) if e.action == "comment"]

    timeline = wait_until("the comment on the timeline", comments)
    assert timeline[0].detail["text"] == "已联系儿子王军"
    assert live.store.get_alert(alert_id).data["assigned_to"] == STAFF
