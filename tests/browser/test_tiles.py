"""Compact resident tiles on a station PC (1366x768): a resident with fifteen devices
shows the count and only the device with a problem, abnormal vital signs are highlighted
(NEWS2 bands), and most of a station's twenty residents fit on the screen at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.store.base import Device, Resident
from hub.store.sqlite import SqliteStore
from tests.browser.conftest import STATION_VIEWPORT, _page
from tests.browser.pages import login, send_vitals
from tests.browser.server import RESIDENT, STAFF, WEARABLE, LiveServer, live_server, populate
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]

SENSORS = [f"s-{i}" for i in range(14)]  # with the wearable: fifteen devices
OFFLINE = "s-13"


@pytest.fixture
def busy_live(tmp_path: Path, mosquitto: Any) -> Iterator[LiveServer]:
    store = SqliteStore(tmp_path / "carehub.db")
    store.migrate()
    now = time.time()
    populate(store, now)
    for sid in SENSORS:
        store.add_device(Device(sid, "motion", vendor="acme", resident_id=RESIDENT,
                                interval_s=600, created_at=now))  # fmt: skip
    for i in range(2, 21):
        store.add_resident(Resident(f"r-{i}", "st-1", f"居民{i:02d}"))
    try:
        with live_server(store, mosquitto.url) as server:
            yield server
    finally:
        store.close()


@pytest.fixture
def page(browser: Any, busy_live: LiveServer) -> Iterator[Any]:
    yield from _page(browser, viewport=STATION_VIEWPORT, locale="zh-CN",
                     timezone_id="Asia/Shanghai")  # fmt: skip


def test_tiles_are_compact_and_highlight_what_needs_a_look(
    page: Any, busy_live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    with MqttTestClient(mosquitto.url) as devices:
        for did in [WEARABLE, *SENSORS]:
            state = "offline" if did == OFFLINE else "online"
            body = json.dumps({"state": state, "ts": time.time()}).encode()
            devices.publish(f"carehub/v1/devices/{did}/status", body, 1, retain=True)
        send_vitals(devices, 1, hr=72, spo2=91, temp=36.6)
    login(page, busy_live.url, STAFF)

    tile = page.locator(f'#tiles .tile[data-resident-id="{RESIDENT}"]')
    expect(tile.locator(".devs-summary")).to_have_text("15 台设备", timeout=20_000)
    expect(tile.locator("[data-device-id]")).to_have_count(1)  # only the one with a problem
    expect(tile.locator(f'[data-device-id="{OFFLINE}"]')).to_contain_text("离线")
    expect(tile.locator('[data-vital="spo2"]')).to_have_class("vital vital-critical")
    expect(tile.locator('[data-vital="hr"]')).to_have_class("vital")
    box = tile.bounding_box()
    assert box is not None and box["height"] <= 160, box

    visible = page.eval_on_selector(
        "#tiles",
        """box => { const b = box.getBoundingClientRect();
            return [...box.children].filter(el => { const r = el.getBoundingClientRect();
                return r.top >= b.top - 1 && r.bottom <= b.bottom + 1; }).length; }""",
    )
    assert visible >= 15, f"only {visible} of 20 residents visible"
