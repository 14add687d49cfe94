"""A resident added while the console is open appears on it without a reload, and so does
the device a CLI (another process) registers for them; the resident's SOS then reaches this
station's console under their name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hub.store.base import Device
from tests.browser.pages import login, press_sos
from tests.browser.server import PASSWORD, STAFF, SUPERVISOR, LiveServer
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]


def test_a_resident_added_while_the_console_is_open_appears_with_their_alerts(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, STAFF)
    expect(page.locator("#tiles .tile")).to_have_count(1)

    with httpx.Client(base_url=live.url, timeout=10) as http:  # a supervisor's admin page
        r = http.post("/api/auth/login", json={"user": SUPERVISOR, "password": PASSWORD})
        r.raise_for_status()
        r = http.post("/api/residents", headers={"X-CSRF-Token": r.json()["csrf_token"]},
                      json={"id": "r-2", "station_id": "st-1", "name": "陈桂兰"})  # fmt: skip
        assert r.status_code == 201, r.text
    tile = page.locator('#tiles .tile[data-resident-id="r-2"]')
    expect(tile).to_be_visible()
    expect(tile.locator(".tile-name")).to_have_text("陈桂兰")
    expect(page.locator("#resident-count")).to_have_text("2")

    # the CLI writes to the store from its own process: the periodic refresh brings it in
    live.store.add_device(Device("w-2", "wearable", vendor="acme", resident_id="r-2",
                                 interval_s=60, created_at=0.0))  # fmt: skip
    expect(tile.locator('[data-device-id="w-2"]')).to_have_count(1, timeout=30_000)

    with MqttTestClient(mosquitto.url) as wearable:
        press_sos(wearable, device_id="w-2")
    card = page.locator("#alert-list > li").first
    expect(card).to_have_attribute("data-priority", "high", timeout=20_000)
    expect(card.locator(".alert-resident")).to_have_text("陈桂兰")
    expect(tile).to_have_class("tile tile-alert tile-high")
