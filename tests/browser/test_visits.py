"""Visits in the browser: on the station's visits page (in Chinese) the supervisor finds an
overdue follow-up, sets a resident's visit plan with the form, records today's visit, and
the family rates that visit, and a meal delivery done earlier, on their phone. One live hub
for the whole walk."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.store.base import Order, OrderEvent, Service, VisitTask
from tests.browser.pages import login
from tests.browser.server import (
    FAMILY,
    RESIDENT,
    RESIDENT_NAME,
    SUPERVISOR,
    LiveServer,
    wait_until,
)
from tests.browser.test_zh_text import english_words

pytestmark = [pytest.mark.broker]


def _overdue_followup(live: LiveServer) -> str:
    """A follow-up after a hospital stay, three days late; its id."""
    now = time.time()
    late = (_today() - timedelta(days=3)).isoformat()
    task = VisitTask(
        f"followup:discharge:{RESIDENT}:{late}", RESIDENT, "st-1", "followup", "discharge",
        late, 1, now - 86_400, now - 4 * 86_400, source_id=late,
    )  # fmt: skip
    live.store.add_visit_tasks([task])
    return task.id


def _done_meal(live: LiveServer) -> str:
    """A meal delivery finished an hour ago; its order id."""
    now = time.time()
    live.store.add_service(Service("sv-meal", "st-1", "meal_delivery", "午餐送餐", 30, 1500,
                                   1000, created_at=now))  # fmt: skip
    o = Order("ord-meal", "st-1", RESIDENT, "sv-meal", "meal_delivery", now - 5400, 30, "done",
              1500, 1000, "system", now - 7200, now - 3600)  # fmt: skip
    live.store.add_order(o, OrderEvent(o.id, now - 7200, "system", "done"))
    return o.id


def _today() -> date:
    return datetime.fromtimestamp(time.time(), ZoneInfo("Asia/Shanghai")).date()


def test_a_visit_planned_recorded_and_rated(
    station_page: Any, phone_page: Any, live: LiveServer
) -> None:
    from playwright.sync_api import expect

    overdue = _overdue_followup(live)
    page = station_page
    login(page, live.url, SUPERVISOR)
    page.click('a[href="/static/visits.html"]')
    late = page.locator(f'#overdue-list li[data-task-id="{overdue}"]')
    expect(late).to_contain_text("出院后回访")
    expect(page.locator("#today-empty")).to_be_visible()
    plan = page.locator("#plan-form")
    plan.locator('select[name="resident"]').select_option(RESIDENT)
    plan.locator('select[name="cadence"]').select_option("by_risk")
    plan.locator('select[name="weekday"]').select_option(str(_today().weekday()))
    plan.locator('input[name="living_alone"]').check()
    plan.locator('button[type="submit"]').click()
    due_today = f"visit:{RESIDENT}:{_today().isoformat()}"
    today = page.locator(f'#today-list li[data-task-id="{due_today}"]')
    expect(today.locator(".visit-name")).to_have_text(RESIDENT_NAME)
    expect(today).to_contain_text("定期探访")
    today.locator("button.btn-record").click()
    form = today.locator("form.visit-form")
    assert english_words(page) == [], "the visits page"
    form.locator('select[name="mood"]').select_option("low")
    form.locator('select[name="mobility"]').select_option("walks_with_aid")
    form.locator('select[name="living"]').select_option("poor")
    form.locator('input[name="needs"][value="meals"]').check()
    form.locator('input[name="needs"][value="repair"]').check()
    form.locator('textarea[name="notes"]').fill("厨房水龙头漏水，已联系物业")
    form.locator('button[type="submit"]').click()
    expect(page.locator(f'#today-list li[data-task-id="{due_today}"]')).to_have_count(0)
    expect(page.locator("#today-empty")).to_be_visible()
    [record] = live.store.visit_records([due_today]).values()
    assert (record.visitor, record.mood, record.needs) == (SUPERVISOR, "low", ("meals", "repair"))
    assert live.store.get_visit_plan(RESIDENT).cadence == "by_risk"  # type: ignore[union-attr]
    assert live.store.get_care_profile(RESIDENT).living_alone  # type: ignore[union-attr]
    assert live.store.get_visit_task(due_today).state == "done"

    meal = _done_meal(live)
    phone = phone_page
    login(phone, live.url, FAMILY, lands_on="/static/family.html")
    visit = phone.locator(f'.recent-visits li[data-task-id="{due_today}"]')
    expect(visit).to_contain_text("情绪低落")
    expect(visit).to_contain_text("助餐、居家维修")
    visit.locator('.stars button[data-score="4"]').tap()
    visit.locator("textarea").fill("小李很细心")
    visit.locator('button[type="submit"]').tap()
    expect(visit.locator(".rating-saved")).to_be_visible()
    rating = wait_until("the rating", lambda: live.store.get_rating("visit", due_today, FAMILY))
    assert (rating.score, rating.comment, rating.station_id) == (4, "小李很细心", "st-1")
    service = phone.locator(f'.recent-services li[data-order-id="{meal}"]')
    expect(service).to_contain_text("午餐送餐")
    expect(service).to_contain_text("为本次服务评分")
    service.locator('.stars button[data-score="5"]').tap()
    service.locator('button[type="submit"]').tap()
    expect(service.locator(".rating-saved")).to_be_visible()
    rated = wait_until("the service rating", lambda: live.store.get_rating("order", meal, FAMILY))
    assert (rated.score, rated.resident_id) == (5, RESIDENT)
    assert english_words(phone) == [], "the family page with a visit and a service"
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
