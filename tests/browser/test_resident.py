"""The resident detail: vitals charts from readings the wearable published, both windows,
contacts and the address's map link, and the SOS on the alert timeline."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.pages import login, press_sos, send_vitals
from tests.browser.server import RESIDENT, STAFF, LiveServer, wait_until
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]


def test_detail_shows_charts_contacts_map_and_timeline(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    with MqttTestClient(mosquitto.url) as wearable:
        for seq, hr in enumerate((68, 72, 75), start=1):
            send_vitals(wearable, seq, hr=hr, spo2=97, temp=36.6)
        press_sos(wearable, seq=4)
    wait_until("the readings", lambda: len(live.store.telemetry("w-1")) == 3)
    wait_until("the SOS alert", lambda: live.store.list_alerts(resident_id=RESIDENT, limit=5))

    page = station_page
    login(page, live.url, STAFF)
    page.click(f'.tile[data-resident-id="{RESIDENT}"] a.tile-name')
    page.wait_for_url(f"**/static/resident.html?id={RESIDENT}")
    expect(page.locator("#r-name")).to_have_text("王秀英")
    titles = page.locator("#charts figcaption")
    expect(titles).to_have_text(["心率 (bpm)", "血氧 (%)", "体温 (℃)"])
    expect(page.locator("#charts svg").first).to_have_attribute("aria-label", "心率 (bpm)")
    # the time axis at round local times: every 6 hours over a day, every midnight over a week
    x_labels = "svg => [...svg.querySelectorAll('text')].filter(e => e.getAttribute('y') > 140)" \
        ".map(e => e.textContent)"  # fmt: skip
    day = page.locator("#charts svg").first.evaluate(x_labels)
    assert len(day) == 4 and all(re.fullmatch(r"(00|06|12|18):00", v) for v in day), day
    page.click("#win-7d")
    expect(page.locator("#win-7d")).to_have_attribute("aria-selected", "true")
    expect(titles).to_have_count(3)
    week = wait_until("the week's axis", lambda: [
        v for v in [page.locator("#charts svg").first.evaluate(x_labels)] if "/" in "".join(v)
    ])[0]  # fmt: skip
    assert len(week) == 7 and all(re.fullmatch(r"\d\d/\d\d", v) for v in week), week
    expect(page.locator("#contacts")).to_contain_text("王军")
    expect(page.locator("#contacts")).to_contain_text("儿子")
    href = page.locator("#r-address a").get_attribute("href")
    assert href is not None and "121.544" in href and "31.2155" in href
    expect(page.locator("#timeline li.tl").last).to_contain_text("告警产生")
    expect(page.locator("#r-alerts li.alert")).to_have_attribute("data-priority", "high")
    expect(page.locator("#events")).to_contain_text("按下求救")


def test_staff_set_the_residents_status_on_the_detail_page(
    station_page: Any, live: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, STAFF)
    page.goto(f"{live.url}/static/resident.html?id={RESIDENT}")
    page.select_option("#r-status-set", "hospital")
    expect(page.locator("#r-status")).to_have_text("住院")
    wait_until("the status in the store",
               lambda: live.store.get_resident(RESIDENT).status == "hospital")  # fmt: skip
