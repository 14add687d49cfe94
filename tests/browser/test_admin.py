"""Admin pages: a device seen on the broker but not provisioned is listed, claimed and
provisioned, and its credentials are shown once; residents and silences are managed."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.browser.pages import login
from tests.browser.server import RESIDENT, SUPERVISOR, LiveServer, wait_until
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]


def test_claim_an_unprovisioned_device_and_see_its_credentials_once(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    with MqttTestClient(mosquitto.url) as stranger:
        body = {"ts": time.time(), "seq": 1, "hr": 70}
        stranger.publish("carehub/v1/devices/w-new/telemetry", json.dumps(body).encode(), 1)
    wait_until(
        "the unknown device to be noticed",
        lambda: any(u.device_id == "w-new" for u in live.store.list_unprovisioned()),
    )

    page = station_page
    login(page, live.url, SUPERVISOR)
    page.goto(f"{live.url}/static/admin.html#devices")
    claim = page.locator('button[data-claim="w-new"]')
    claim.click()
    expect(page.locator("#device-form-id")).to_have_value("w-new")
    page.select_option("#device-form-kind", "wearable")
    page.fill("#device-form-resident_id", RESIDENT)
    page.click("#device-form-submit")
    box = page.locator("#credentials")
    expect(box).to_contain_text("只显示这一次")
    password = box.locator("code.password").inner_text()
    assert len(password) >= 16
    assert live.store.get_device("w-new").resident_id == RESIDENT

    page.reload()  # shown once: a new visit lists the device, never its secret
    expect(page.locator("table").first).to_contain_text("w-new")
    expect(page.locator("#credentials")).to_have_count(0)
    assert password not in page.content()


def test_add_a_resident_and_a_silence(station_page: Any, live: LiveServer) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, SUPERVISOR)
    page.goto(f"{live.url}/static/admin.html#residents")
    page.fill("#resident-form-id", "r-2")
    page.fill("#resident-form-name", "李桂兰")
    page.fill("#resident-form-birth_year", "1938")
    page.click("#resident-form-submit")
    expect(page.locator("table")).to_contain_text("李桂兰")
    assert live.store.get_resident("r-2").birth_year == 1938

    page.click('[data-tab="silences"]')
    page.fill("#silence-form-reason", "更换电池")
    page.fill("#silence-form-end", "2099-01-01T08:00")
    page.fill("#silence-form-resident_id", "r-2")
    page.click("#silence-form-submit")
    expect(page.locator("table")).to_contain_text("更换电池")
    [row] = live.store.list_silences()
    # entered as Shanghai wall time (UTC+8): 2099-01-01 00:00 UTC
    assert (row.resident_id, row.end) == ("r-2", 4_070_908_800.0)


def test_a_family_member_cannot_open_the_admin_pages(phone_page: Any, live: LiveServer) -> None:
    from tests.browser.server import FAMILY

    login(phone_page, live.url, FAMILY, lands_on="/static/family.html")
    phone_page.goto(f"{live.url}/static/admin.html")
    phone_page.wait_for_url("**/static/family.html")
    assert phone_page.url.endswith("/static/family.html")
