"""The console's connection watchdog in a real browser: the page reaches the dashboard
through a TCP proxy that then freezes (the socket stays open, no byte moves). Within twice
the heartbeat interval the console must say "connection lost" across the page, dim the
stale queue and sound the technical alarm, never "live"; when the proxy thaws it
reconnects by itself and resyncs, so an alert resolved meanwhile leaves the queue and the
alarm stops."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dashboard.settings import DashboardSettings
from hub.store.sqlite import SqliteStore
from tests.browser.conftest import STATION_VIEWPORT, _page
from tests.browser.pages import login, press_sos
from tests.browser.proxy import FreezingProxy, freezing_proxy
from tests.browser.server import PASSWORD, STAFF, SUPERVISOR, LiveServer, live_server, populate
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]

HEARTBEAT_S = 1.0  # the watchdog then trips after 2 s of silence


@pytest.fixture
def fast_live(tmp_path: Path, mosquitto: Any) -> Iterator[LiveServer]:
    store = SqliteStore(tmp_path / "carehub.db")
    store.migrate()
    populate(store, time.time())
    settings = DashboardSettings(cookie_secure=False, ws_heartbeat_s=HEARTBEAT_S)
    try:
        with live_server(store, mosquitto.url, settings=settings) as server:
            yield server
    finally:
        store.close()


@pytest.fixture
def proxy(fast_live: LiveServer) -> Iterator[FreezingProxy]:
    with freezing_proxy(fast_live.url) as p:
        yield p


@pytest.fixture
def proxied_page(browser: Any, proxy: FreezingProxy) -> Iterator[Any]:
    yield from _page(browser, viewport=STATION_VIEWPORT, locale="zh-CN",
                     timezone_id="Asia/Shanghai")  # fmt: skip


def _resolve_directly(base_url: str, alert_id: str) -> None:
    """A colleague resolves the alert from another PC (not through the frozen proxy)."""
    with httpx.Client(base_url=base_url, timeout=10) as http:
        r = http.post("/api/auth/login", json={"user": SUPERVISOR, "password": PASSWORD})
        r.raise_for_status()
        csrf = r.json()["csrf_token"]
        r = http.post(f"/api/alerts/{alert_id}/resolve", json={"outcome": "handled_by_phone"},
                      headers={"X-CSRF-Token": csrf})  # fmt: skip
        r.raise_for_status()


def test_a_frozen_connection_is_shown_as_lost_then_resynced(
    proxied_page: Any, proxy: FreezingProxy, fast_live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = proxied_page
    login(page, proxy.url, STAFF)
    with MqttTestClient(mosquitto.url) as wearable:
        press_sos(wearable)
    top = page.locator("#alert-list > li").first
    expect(top).to_have_attribute("data-state", "open", timeout=20_000)
    alert_id = top.get_attribute("data-alert-id")
    assert alert_id
    page.click("#sound-toggle")  # a user gesture lets the page make sound
    expect(page.locator("body")).to_have_attribute("data-alarm", "ringing")
    expect(page.locator("body")).to_have_attribute("data-tech-alarm", "off")
    expect(page.locator("#conn-lost")).to_have_count(0)

    proxy.freeze()
    _resolve_directly(fast_live.url, alert_id)

    # no frame for twice the heartbeat: lost, said across the page, never "live"
    banner = page.locator("#conn-lost")
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_have_text(re.compile("连接已中断"))
    expect(page.locator("body")).to_have_attribute("data-conn", "lost")
    expect(page.locator("#conn")).to_have_attribute("data-state", "lost")
    expect(page.locator("body")).to_have_attribute("data-tech-alarm", "ringing")
    opacity = page.locator("#alert-list").evaluate("el => Number(getComputedStyle(el).opacity)")
    assert opacity < 1, "the stale queue is dimmed"
    # the banner fits the station screen without pushing the console into a page scroll
    assert page.evaluate("document.documentElement.scrollHeight") <= 768
    # what is on screen is stale: the alert resolved elsewhere is still shown meanwhile
    expect(page.locator(f'#alert-list > li[data-alert-id="{alert_id}"]')).to_have_count(1)

    proxy.thaw()

    # it reconnects by itself and resumes: the resolved alert is gone, the alarms stop
    expect(page.locator("body")).to_have_attribute("data-conn", "live", timeout=40_000)
    expect(banner).to_be_hidden()
    expect(page.locator("#alert-list > li")).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-alarm", "off")
    expect(page.locator("body")).to_have_attribute("data-tech-alarm", "off")
