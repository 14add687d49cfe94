"""The family page on a 390 px phone: the alert comes first, its status says where it
really stands (waiting for the station, acknowledged by whom, someone on the way), text is
16 px or more, every control a 44 px target, the "going over" confirmation readable; the
resident's detail fits the phone; and the station's console still shows who is going over
after a reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.pages import login, press_sos, send_vitals
from tests.browser.server import FAMILY, RESIDENT, STAFF, LiveServer, wait_until
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]

SIZES = """root => {
  const small = [], targets = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || el.closest("[hidden]")) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 16) small.push(`${size}px: ${walker.currentNode.textContent.trim().slice(0, 30)}`);
  }
  for (const el of document.querySelectorAll("button, select, input, a, label.inline")) {
    if (el.closest("[hidden]") || el.type === "checkbox") continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.height < 44) targets.push(`${r.height}px: ${el.outerHTML.slice(0, 60)}`);
  }
  return { small, targets };
}"""

CONTRAST = """el => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const s = getComputedStyle(el);
  const [a, b] = [lum(rgb(s.color)), lum(rgb(s.backgroundColor))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_the_family_page_on_a_phone(
    phone_page: Any, browser: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    with MqttTestClient(mosquitto.url) as wearable:
        send_vitals(wearable, 1, hr=72, spo2=97, temp=36.6)
        send_vitals(wearable, 2, hr=75, spo2=96, temp=36.7)
        press_sos(wearable, seq=3)
    alert = wait_until("the SOS", live.hub.alert_engine.open_alerts, within=20)[0]

    page = phone_page
    login(page, live.url, FAMILY, lands_on="/static/family.html")
    elder = page.locator(f'section.elder[data-resident-id="{RESIDENT}"]')
    state = elder.locator(".elder-state")
    expect(state).to_have_text("等待服务站响应")
    # the alert first: straight after the status, before vital signs and devices
    first = elder.locator(".elder-state + ol.alert-list-open > li.alert")
    expect(first).to_have_attribute("data-alert-id", alert.id)
    sizes = page.eval_on_selector("body", SIZES)
    assert sizes["small"] == [], sizes["small"]
    assert sizes["targets"] == [], sizes["targets"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    live.hub.alert_engine.acknowledge(alert.id, f"user:{STAFF}", alert.opened_at + 5)
    expect(state).to_have_text(f"服务站已确认（{STAFF}），正在处理", timeout=15_000)

    going = first.locator("button.btn-going")
    going.tap()
    expect(going).to_have_text("已告知服务站您正在赶去")
    expect(state).to_have_text("正在赶去：王军", timeout=15_000)
    assert going.evaluate(CONTRAST) >= 4.5

    page.goto(f"{live.url}/static/resident.html?id={RESIDENT}")  # the detail, on the phone
    page.wait_for_selector("#charts svg")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    chart = page.locator("#charts svg").first.bounding_box()
    assert chart is not None and chart["width"] >= 300, chart

    # a station PC that opens the console now still sees who is going over
    station = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")  # fmt: skip
    try:
        console = station.new_page()
        login(console, live.url, STAFF)
        row = console.locator(f'#alert-list > li[data-alert-id="{alert.id}"]')
        expect(row.locator(".fact-going").first).to_contain_text("王军")
    finally:
        station.close()
