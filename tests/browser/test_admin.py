"""Admin pages: a device seen on the broker but not provisioned is listed, claimed and
provisioned, and its credentials are shown once; residents and silences are managed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import STATION_VIEWPORT, _page
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


@pytest.fixture
def refusing_page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A station page where the test provokes a refused input (422) on purpose."""
    yield from _page(browser, allow=("status of 422",), viewport=STATION_VIEWPORT,
                     locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip


def test_the_device_table_is_searchable_and_paginated_and_errors_name_the_field(
    refusing_page: Any, live: LiveServer
) -> None:
    from playwright.sync_api import expect

    from hub.store.base import Device

    for i in range(120):
        live.store.add_device(Device(f"s-{i:03d}", "motion", vendor="acme", resident_id=RESIDENT))
    page = refusing_page
    login(page, live.url, SUPERVISOR)
    page.goto(f"{live.url}/static/admin.html#devices")
    rows = page.locator("#device-table tbody tr")
    expect(rows).to_have_count(50)
    expect(page.locator("#device-range")).to_have_text("第 1–50 台")
    page.click("#device-next")
    expect(page.locator("#device-range")).to_have_text("第 51–100 台")
    expect(rows.first.locator("td").first).to_have_text("s-050")
    page.fill("#device-search", "s-11")
    expect(rows).to_have_count(10)  # s-110 ... s-119
    expect(page.locator("#device-range")).to_have_text("第 1–10 台")
    expect(page.locator("#device-next")).to_be_disabled()

    # a value the API refuses is marked on its field, in the reader's language
    form = page.locator("#device-form")
    form.locator('[name="id"]').fill("w-new")
    form.locator('[name="interval_s"]').fill("-5")
    form.locator("#device-form-submit").click()
    expect(form.locator('[name="interval_s"]')).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).to_have_text("此项有误，请检查")
    expect(page.locator("#message")).to_contain_text("输入有误")


def test_edit_a_resident_from_the_admin_table(station_page: Any, live: LiveServer) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, SUPERVISOR)
    page.goto(f"{live.url}/static/admin.html#residents")
    page.click(f'button[data-edit="{RESIDENT}"]')
    form = page.locator("#resident-edit-form")
    expect(form.locator('[name="name"]')).to_have_value("王秀英")
    form.locator('[name="status"]').select_option("hospital")
    form.locator('[name="address"]').fill("花木路 18 弄 3 号 602 室")
    form.locator("#resident-edit-form-submit").click()
    expect(page.locator("#message")).to_have_text("已保存：王秀英")
    row = page.locator("tr", has=page.locator(f'button[data-edit="{RESIDENT}"]'))
    expect(row).to_contain_text("住院")
    stored = live.store.get_resident(RESIDENT)
    assert (stored.status, stored.address) == ("hospital", "花木路 18 弄 3 号 602 室")


def test_the_escalation_policy_is_a_form(station_page: Any, live: LiveServer) -> None:
    from playwright.sync_api import expect

    page = station_page
    login(page, live.url, SUPERVISOR)
    page.goto(f"{live.url}/static/admin.html#policies")
    high = page.locator('fieldset.plan[data-priority="high"]')
    steps = high.locator("tr.step")
    expect(steps).to_have_count(3)  # the default: station, then supervisor, then family
    expect(steps.nth(1).locator(".step-after")).to_have_value("1")
    steps.nth(1).locator(".step-after").fill("2")
    steps.nth(2).locator('.step-target[value="family"]').uncheck()
    high.locator(".plan-repeat").fill("5")
    page.click("#policy-save")
    expect(page.locator("#message")).to_have_text("已保存")
    saved = live.store.escalation_policies()["st-1"]
    assert [s["after_s"] for s in saved["high"]["steps"]] == [0, 120, 180]
    assert saved["high"]["steps"][2]["notify"] == ["district"]
    assert saved["high"]["repeat_every_s"] == 300


def test_edit_a_user_from_the_admin_table(station_page: Any, live: LiveServer) -> None:
    from playwright.sync_api import expect

    from tests.browser.server import FAMILY

    page = station_page
    login(page, live.url, SUPERVISOR)
    page.goto(f"{live.url}/static/admin.html#users")
    page.click(f'button[data-edit-user="{FAMILY}"]')
    form = page.locator("#user-edit-form")
    form.locator('[name="name"]').fill("王军（儿子）")
    form.locator('[name="disabled"]').check()
    form.locator("#user-edit-form-submit").click()
    expect(page.locator("#message")).to_have_text("已保存：王军（儿子）")
    stored = live.store.get_user(FAMILY)
    assert (stored.name, stored.disabled, stored.resident_ids) == ("王军（儿子）", True, ("r-1",))


def test_add_and_edit_a_service_and_a_care_worker(refusing_page: Any, live: LiveServer) -> None:
    """The catalogue and the care workers on the zh-CN admin page: a price typed in yuan is
    stored in cents (a third decimal is refused on its field), hours typed per weekday
    become the API's spans, the worker is linked to a staff login."""
    from playwright.sync_api import expect

    from tests.browser.server import STAFF
    from tests.browser.test_zh_text import english_words

    page = refusing_page
    login(page, live.url, SUPERVISOR)
    page.goto(f"{live.url}/static/admin.html#services")
    form = page.locator("#service-form")
    form.locator('[name="id"]').fill("sv-bath")
    form.locator('[name="kind"]').select_option("bathing")
    form.locator('[name="name"]').fill("上门助浴")
    form.locator('[name="duration_min"]').fill("60")
    form.locator('[name="price"]').fill("80.125")
    form.locator('[name="skills"]').fill("bathing")
    form.locator("#service-form-submit").click()
    expect(form.locator('[name="price"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#message")).to_contain_text("价格")
    assert live.store.list_services("st-1") == []
    form.locator('[name="price"]').fill("80.5")
    form.locator('[name="subsidy"]').fill("30")
    form.locator("#service-form-submit").click()
    expect(page.locator("#message")).to_have_text("已保存：上门助浴")
    expect(page.locator("table")).to_contain_text("80.50")
    [svc] = live.store.list_services("st-1")
    assert (svc.kind, svc.duration_min, svc.price_cents, svc.subsidy_cents, svc.skills) == (
        "bathing", 60, 8050, 3000, ("bathing",))  # fmt: skip
    page.click('button[data-edit-service="sv-bath"]')
    edit = page.locator("#service-edit-form")
    edit.locator('[name="active"]').uncheck()
    edit.locator("#service-edit-form-submit").click()
    expect(page.locator("table")).to_contain_text("已停用")
    assert not live.store.get_service("sv-bath").active
    assert set(english_words(page)) <= {"sv", "bath", "bathing"}, "the services tab"

    page.click('[data-tab="workers"]')
    form = page.locator("#worker-form")
    form.locator('[name="id"]').fill("cw-li")
    form.locator('[name="name"]').fill("李娜")
    form.locator('[name="user_id"]').select_option(STAFF)
    form.locator('[name="phone"]').fill("13900000000")
    form.locator('[name="skills"]').fill("bathing, food")
    form.locator('[name="hours_0"]').fill("08:00-12:00, 13:00-17:00")
    form.locator('[name="hours_5"]').fill("9点到12点")
    form.locator("#worker-form-submit").click()
    expect(form.locator('[name="hours_5"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#message")).to_contain_text("工作时间")
    form.locator('[name="hours_5"]').fill("22:00-06:00")
    form.locator("#worker-form-submit").click()
    expect(page.locator("#message")).to_have_text("已保存：李娜")
    expect(page.locator("table")).to_contain_text("星期一 08:00-12:00, 13:00-17:00")
    expect(page.locator("table")).to_contain_text("22:00-06:00")
    w = live.store.get_worker("cw-li")
    assert (w.station_id, w.user_id, w.phone, w.skills) == (
        "st-1", STAFF, "13900000000", ("bathing", "food"))  # fmt: skip
    assert w.hours == {"0": [["08:00", "12:00"], ["13:00", "17:00"]], "5": [["22:00", "06:00"]]}
    page.click('button[data-edit-worker="cw-li"]')
    edit = page.locator("#worker-edit-form")
    expect(edit.locator('[name="hours_0"]')).to_have_value("08:00-12:00, 13:00-17:00")
    edit.locator('[name="hours_5"]').fill("")
    edit.locator('[name="user_id"]').select_option("")
    edit.locator("#worker-edit-form-submit").click()
    # the message still reads as after the first save: wait for the table to change
    expect(page.locator("table")).not_to_contain_text("22:00-06:00")
    expect(page.locator("#message")).to_have_text("已保存：李娜")
    w = live.store.get_worker("cw-li")
    assert (w.user_id, w.hours) == (None, {"0": [["08:00", "12:00"], ["13:00", "17:00"]]})
    assert set(english_words(page)) <= {"cw", "li", "na", "bathing", "food"}, "the workers tab"
