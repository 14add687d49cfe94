"""Visits in the browser: staff find an overdue and a today's visit on the station's
visits page (in Chinese), record one with the form, and the family rates that visit on
their phone. One live hub for the whole walk."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.store.base import VisitPlan, VisitTask
from tests.browser.pages import login
from tests.browser.server import FAMILY, RESIDENT, RESIDENT_NAME, STAFF, LiveServer, wait_until
from tests.browser.test_zh_text import english_words

pytestmark = [pytest.mark.broker]


def _tasks(live: LiveServer) -> tuple[str, str]:
    """A weekly plan due today, and a follow-up three days late: (today's id, overdue id)."""
    now = time.time()
    today = datetime.fromtimestamp(now, ZoneInfo("Asia/Shanghai")).date()
    live.store.set_visit_plan(VisitPlan(RESIDENT, "weekly", 1, today.isoformat(),
                                        weekday=today.weekday()))  # fmt: skip
    live.hub.visits.generate(now, RESIDENT)
    late = (today - timedelta(days=3)).isoformat()
    live.store.add_visit_tasks([VisitTask(
        f"followup:discharge:{RESIDENT}:{late}", RESIDENT, "st-1", "followup", "discharge",
        late, 1, now - 86_400, now - 4 * 86_400, source_id=late,
    )])  # fmt: skip
    return f"visit:{RESIDENT}:{today.isoformat()}", f"followup:discharge:{RESIDENT}:{late}"


def test_staff_record_a_visit_and_the_family_rates_it(
    station_page: Any, phone_page: Any, live: LiveServer
) -> None:
    from playwright.sync_api import expect

    due_today, overdue = _tasks(live)
    page = station_page
    login(page, live.url, STAFF)
    page.click('a[href="/static/visits.html"]')
    late = page.locator(f'#overdue-list li[data-task-id="{overdue}"]')
    expect(late).to_contain_text("出院后回访")
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
    assert (record.visitor, record.mood, record.needs) == (STAFF, "low", ("meals", "repair"))
    assert live.store.get_visit_task(due_today).state == "done"

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
    assert english_words(phone) == [], "the family page with a visit"
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
