"""An SOS on the console becomes an emergency visit in one click; the station confirms the
proposed care worker; on the worker's phone the order is accepted, the check-in is refused
far from the resident's home and accepted at the door, and the visit is closed with notes;
every step shows on the console's row live, without a reload, and on the resident's
detail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hub.store.base import CareWorker, Service
from tests.browser.conftest import PHONE_VIEWPORT, _page
from tests.browser.pages import login, sos_on_the_console
from tests.browser.server import RESIDENT, RESIDENT_NAME, STAFF, SUPERVISOR, LiveServer
from tests.browser.test_zh_text import english_words

pytestmark = [pytest.mark.broker]

HOME = {"latitude": 31.2155, "longitude": 121.5440}  # the resident's address (server.py)
EVERY_DAY = {str(d): [["00:00", "24:00"]] for d in range(7)}


@pytest.fixture
def worker_phone(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A phone that shares its position (first 2 km from the resident's home)."""
    yield from _page(
        browser, allow=("status of 422",), viewport=PHONE_VIEWPORT, is_mobile=True,
        has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai",
        geolocation={"latitude": HOME["latitude"] + 0.018, "longitude": HOME["longitude"]},
        permissions=["geolocation"],
    )  # fmt: skip


def test_emergency_visit_from_the_console_to_the_workers_phone(
    station_page: Any, worker_phone: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    live.store.add_service(Service("sv-sos", "st-1", "emergency_visit", "紧急上门", 45, 0))
    live.store.add_worker(CareWorker("cw-1", "st-1", "李娜", STAFF, None, (), EVERY_DAY,
                                     HOME["latitude"] + 0.01, HOME["longitude"]))  # fmt: skip
    row, _ = sos_on_the_console(station_page, live.url, mosquitto.url, SUPERVISOR)
    row.locator(".btn-visit").click()
    badge = row.locator(".visit-badge")
    expect(badge).to_have_attribute("data-status", "open")
    expect(badge).to_contain_text("待派单")
    dispatch = row.locator(".btn-dispatch")
    expect(dispatch).to_have_text("派单给李娜")
    assert english_words(station_page) == [], "the console with a visit waiting for dispatch"
    dispatch.click()
    expect(badge).to_have_attribute("data-status", "assigned")

    phone = worker_phone
    login(phone, live.url, STAFF)
    phone.goto(f"{live.url}/static/worker.html")
    order = phone.locator("#orders > li").first
    expect(order).to_have_attribute("data-status", "assigned")
    expect(order.locator(".order-resident")).to_have_text(RESIDENT_NAME)
    expect(order.locator(".order-address")).to_have_text("花木路 18 弄 3 号 502 室")
    expect(order.locator(".order-kind")).to_have_text("紧急上门")
    assert english_words(phone) == [], "the worker's page"

    order.locator(".btn-accept").click()
    expect(order).to_have_attribute("data-status", "accepted")
    expect(badge).to_have_attribute("data-status", "accepted")  # live on the console

    order.locator(".btn-arrive").click()  # 2 km away: refused, nothing changes
    expect(phone.locator("#message")).to_have_text("距离老人住址太远，无法签到")
    expect(order).to_have_attribute("data-status", "accepted")

    phone.context.set_geolocation({"latitude": HOME["latitude"] + 0.0003,
                                   "longitude": HOME["longitude"]})  # fmt: skip
    phone.locator("#orders > li .btn-arrive").click()
    expect(order).to_have_attribute("data-status", "arrived")
    expect(badge).to_have_attribute("data-status", "arrived")
    expect(badge).to_contain_text("已到达 · 李娜")

    order.locator(".order-notes").fill("老人摔倒后可自行站立，已陪同")
    order.locator(".btn-done").click()
    expect(order).to_have_attribute("data-status", "done")
    expect(order.locator(".order-done-notes")).to_have_text("老人摔倒后可自行站立，已陪同")
    expect(badge).to_have_attribute("data-status", "done")
    events = live.store.order_events(str(badge.get_attribute("data-order-id")))
    assert [e.to_status for e in events] == ["open", "assigned", "accepted", "arrived", "done"]
    arrived = events[3]
    assert arrived.lat == pytest.approx(HOME["latitude"] + 0.0003)

    # the resident's detail shows the alert's visit too
    station_page.goto(f"{live.url}/static/resident.html?id={RESIDENT}")
    card = station_page.locator("#r-alerts > li").first
    expect(card.locator(".visit-badge")).to_have_attribute("data-status", "done")
    expect(card.locator(".visit-badge")).to_contain_text("已完成 · 李娜")
