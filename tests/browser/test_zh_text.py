"""No English in a zh-CN page: the console (alerts, tiles, a smoke alarm in the kitchen),
a resident's detail (home events in rooms the devices name in English), the admin pages and
the family page are walked text node by text node, with placeholders, titles and labels;
every Latin word must be data (ids, user names) or a unit."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.store.base import Device, EventRow, IngestBatch
from hub.store.sqlite import SqliteStore
from tests.browser.conftest import PHONE_VIEWPORT, STATION_VIEWPORT, _page
from tests.browser.pages import login, press_sos, send_vitals
from tests.browser.server import (
    FAMILY,
    RESIDENT,
    STAFF,
    SUPERVISOR,
    LiveServer,
    live_server,
    populate,
)
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]

SMOKE = "smk-1"
# data, not interface text: ids and user names of the test station, units, the switch to
# English (named in English on purpose), and what vital signs are called everywhere
ALLOWED = {
    "li", "na", "zhao", "min", "wang", "jun", "acme", "smk", "st", "pd", "sh",
    "SpO", "RR", "bpm", "mmol", "English", "NEWS", "CSV",
}  # fmt: skip

SCAN = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    // a <textarea> holds what the user typed (CSV, channel addresses): data
    // and <code> a file format's own names (the CSV columns)
    if (!el || el.closest("[hidden], script, style, template, textarea, code")) continue;
    texts.push(walker.currentNode.textContent);
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    if (el.closest("[hidden]")) continue;
    for (const a of ["placeholder", "title", "aria-label"]) texts.push(el.getAttribute(a) || "");
  }
  texts.push(document.title);
  return texts;
}"""


def english_words(page: Any) -> list[str]:
    texts: list[str] = page.evaluate(SCAN)
    words = {w for text in texts for w in re.findall(r"[A-Za-z]{2,}", text)}
    return sorted(w for w in words if w not in ALLOWED)


@pytest.fixture
def home_live(tmp_path: Path, mosquitto: Any) -> Iterator[LiveServer]:
    store = SqliteStore(tmp_path / "carehub.db")
    store.migrate()
    now = time.time()
    populate(store, now)
    store.add_device(Device(SMOKE, "smoke", vendor="acme", resident_id=RESIDENT, created_at=now))
    rooms = ["kitchen", "living", "Living Room", "bathroom", "bedroom", "entrance"]
    store.write_batch(IngestBatch(events=[
        EventRow("w-1", 100 + i, now - 600 * (i + 1), now - 600 * (i + 1), "motion", {"room": r})
        for i, r in enumerate(rooms)]))  # fmt: skip
    try:
        with live_server(store, mosquitto.url) as server:
            yield server
    finally:
        store.close()


@pytest.fixture
def zh_page(browser: Any, home_live: LiveServer) -> Iterator[Any]:
    yield from _page(browser, viewport=STATION_VIEWPORT, locale="zh-CN",
                     timezone_id="Asia/Shanghai")  # fmt: skip


@pytest.fixture
def zh_phone(browser: Any, home_live: LiveServer) -> Iterator[Any]:
    yield from _page(browser, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True,
                     locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip


def test_no_english_in_the_zh_cn_station_pages(
    zh_page: Any, zh_phone: Any, home_live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    live, page = home_live, zh_page
    with MqttTestClient(mosquitto.url) as devices:
        press_sos(devices)
        smoke = {"ts": time.time(), "seq": 1, "type": "smoke", "alarm": True, "room": "kitchen"}
        devices.publish(f"carehub/v1/devices/{SMOKE}/event", json.dumps(smoke).encode(), 1)
        send_vitals(devices, 2, hr=72, spo2=91, temp=36.6)
    login(page, live.url, SUPERVISOR)
    expect(page.locator("#alert-list > li")).to_have_count(2, timeout=20_000)
    page.locator("#alert-list > li button.btn-more").first.click()  # the details and forms
    expect(page.locator("#alert-list")).to_contain_text("厨房")
    assert english_words(page) == [], "the console"

    page.goto(f"{live.url}/static/resident.html?id={RESIDENT}")
    page.wait_for_selector('#conn[data-state="live"]')
    expect(page.locator("#events")).to_contain_text("客厅")
    assert english_words(page) == [], "the resident's detail"

    page.goto(f"{live.url}/static/admin.html")
    page.wait_for_selector('#conn[data-state="live"]')
    for tab in page.locator("[data-tab]:visible").all():
        tab.click()
        page.wait_for_timeout(300)
        name = tab.get_attribute("data-tab")
        assert english_words(page) == [], f"the admin tab {name}"

    login(zh_phone, live.url, FAMILY, lands_on="/static/family.html")
    assert english_words(zh_phone) == [], "the family page"
    assert STAFF  # the staff console is the same page as the supervisor's, scanned above


@pytest.fixture
def refused_page(browser: Any, home_live: LiveServer) -> Iterator[Any]:
    """A station page where the test provokes a refused write (409) on purpose."""
    yield from _page(browser, allow=("status of 409",), viewport=STATION_VIEWPORT,
                     locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip


def test_server_errors_are_shown_in_the_readers_language(
    refused_page: Any, home_live: LiveServer
) -> None:
    from playwright.sync_api import expect

    page = refused_page
    page.goto(f"{home_live.url}/")
    page.fill("#login-user", STAFF)
    page.fill("#login-password", "not the password")
    page.click("#login-submit")
    expect(page.locator("#message")).to_have_text("用户名或密码错误。")
    assert english_words(page) == []

    login(page, home_live.url, SUPERVISOR)  # a resident id that exists: a conflict
    page.goto(f"{home_live.url}/static/admin.html#residents")
    page.wait_for_selector("#admin form")
    form = page.locator("#admin form").first
    form.locator('[name="id"]').fill(RESIDENT)
    form.locator('[name="name"]').fill("重复")
    form.locator('button[type="submit"]').click()
    expect(page.locator("#message")).to_contain_text("与已有记录冲突")
    assert english_words(page) == []
