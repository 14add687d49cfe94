"""The KPI page in Chromium: a district admin's table (one row a station, the total last),
the period picker, drilling into a station, the CSV link, all in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard.auth import hash_password
from hub.store.base import UserRow
from hub.store.sqlite import SqliteStore
from tests.browser.conftest import STATION_VIEWPORT, _page
from tests.browser.pages import login
from tests.browser.server import PASSWORD, LiveServer, live_server
from tests.browser.test_zh_text import english_words
from tests.helpers import kpi_data, service_kpi_data

pytestmark = [pytest.mark.broker]

ADMIN = "admin.pd"
JANUARY = "from=2026-01-01&to=2026-01-10"  # the data set's days (Asia/Shanghai)


@pytest.fixture(scope="module")
def kpi_live(tmp_path_factory: pytest.TempPathFactory, mosquitto: Any) -> Iterator[LiveServer]:
    store = SqliteStore(Path(tmp_path_factory.mktemp("kpi")) / "carehub.db")
    store.migrate()
    kpi_data.populate(store)
    service_kpi_data.populate(store)
    store.add_user(UserRow(ADMIN, "浦东管理员", "district_admin", hash_password(PASSWORD),
                           kpi_data.T0, "pd"))  # fmt: skip
    try:
        with live_server(store, mosquitto.url) as server:
            yield server
    finally:
        store.close()


@pytest.fixture(scope="module")
def kpi_page(browser: Any, kpi_live: LiveServer) -> Iterator[Any]:
    for page in _page(browser, viewport=STATION_VIEWPORT, locale="zh-CN",
                      timezone_id="Asia/Shanghai"):  # fmt: skip
        login(page, kpi_live.url, ADMIN)
        yield page


def _rows(page: Any) -> list[tuple[str, str, str]]:
    """(row kind, name, alarms) of every row of the table."""
    return [
        tuple(x)
        for x in page.eval_on_selector_all(
            "#kpi-table tbody tr",
            """rows =>
        rows.map(r => [r.dataset.kind, r.querySelector('th').textContent,
                       r.querySelector('td[data-key="alarms.total"]').textContent])""",
        )
    ]


def test_the_district_table_period_csv_and_drill_down(kpi_page: Any, kpi_live: LiveServer) -> None:
    page = kpi_page
    page.click('nav a[href="/static/kpi.html"]')  # the header links to the page
    page.wait_for_selector("#kpi-table tbody tr.kpi-total")
    page.goto(f"{kpi_live.url}/static/kpi.html?{JANUARY}")
    page.wait_for_selector("#kpi-table tbody tr.kpi-total")
    # st-1: a1-a4 and a5 (07:58 on 1 January in Shanghai); st-2: b1, b2
    assert _rows(page) == [
        ("station", "花木街道养老服务站", "5"),
        ("station", "金杨养老服务站", "2"),
        ("total", "浦东新区", "7"),
    ]
    headers = page.eval_on_selector_all("#kpi-table thead th", "hs => hs.map(h => h.textContent)")
    assert "确认用时中位数 (秒)" in headers and "误报率 (%)" in headers
    assert "告警: 跌倒" in headers
    assert "到达用时中位数 (秒)" in headers and "工单按时完成率 (%)" in headers
    assert "探访按期完成率 (%)" in headers and "平均评分 (1–5 分)" in headers
    # ratings from 1 January 00:00 in Shanghai: st-2's b1 (3) and m4 (1); st-1's 5, 4, 2
    avg = page.eval_on_selector_all('#kpi-table td[data-key="rating.avg"]',
                                    "cells => cells.map(c => c.textContent)")  # fmt: skip
    assert avg == ["3.67", "2.00", "3.00"]
    assert english_words(page) == []  # zh-CN: ids and data only (the allowed words)

    csv_href = page.get_attribute("#kpi-csv", "href")
    assert csv_href == "/api/kpi/csv?level=district&id=pd&from=2026-01-01&to=2026-01-10"
    r = page.request.get(kpi_live.url + csv_href)
    assert r.ok and r.body().startswith(b"\xef\xbb\xbf")
    assert "花木街道养老服务站" in r.body().decode("utf-8-sig")

    page.fill("#kpi-from", "2025-12-01")
    page.fill("#kpi-to", "2025-12-31")
    page.click("#kpi-apply")
    total = '#kpi-table tr.kpi-total td[data-key="alarms.total"]'
    page.wait_for_function(f"() => document.querySelector('{total}').textContent === '0'")
    assert "from=2025-12-01" in page.url

    page.goto(f"{kpi_live.url}/static/kpi.html?{JANUARY}")
    page.wait_for_selector("#kpi-table tbody tr.kpi-total")
    page.click("text=花木街道养老服务站")
    page.wait_for_url("**level=station&id=st-1*")
    page.wait_for_function("() => document.querySelectorAll('#kpi-table tbody tr').length === 1")
    assert _rows(page) == [("station", "花木街道养老服务站", "5")]
    assert page.is_visible("#kpi-up")
