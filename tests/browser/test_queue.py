"""The console's queue on a station PC (1366x768): compact rows (15+ fit), unacknowledged
first then priority then age, acknowledged below, a "new" mark on what arrived while
watching, the cleared condition on the row; and rows patched in place, so a slow
acknowledge click during a burst of updates is never lost and keyboard focus stays put."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from hub.store.base import FindingRow
from tests.browser.pages import login, press_sos, sos_on_the_console
from tests.browser.server import STAFF, WEARABLE, LiveServer, wait_until
from tests.fixtures.mqtt_client import MqttTestClient

pytestmark = [pytest.mark.broker]

RANK = {"high": 2, "medium": 1, "low": 0}
EARLIER = [  # (kind, priority) of alerts already open when the console is opened
    ("fall", "high"), ("smoke", "high"), ("gas", "high"), ("vitals", "medium"),
    ("bp", "medium"), ("glucose", "medium"), ("water", "medium"), ("room_temp", "low"),
    ("inactivity", "medium"), ("not_up", "low"), ("night_exit", "medium"),
    ("long_bathroom", "medium"), ("out_of_bed", "medium"), ("low_battery", "low"),
    ("not_worn", "low"), ("clock_skew", "low"), ("stuck_sensor", "low"),
    ("vitals_drift", "medium"), ("device_offline", "low"),
]  # fmt: skip


def _finding(live: LiveServer, kind: str, priority: str, at: float, **reason: str) -> None:
    texts = reason or {"zh-CN": f"{kind} 测试", "en": f"{kind} test"}
    f = FindingRow(None, WEARABLE, kind, priority, at, at, {}, texts, id=None)
    live.hub.alert_engine.on_finding(f, at)


def _rows(page: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = page.eval_on_selector_all(
        "#alert-list > li",
        """els => els.map(li => ({id: li.dataset.alertId, state: li.dataset.state,
            priority: li.dataset.priority, isNew: li.dataset.new === "true",
            since: Number(li.querySelector("time").dataset.since),
            kind: li.querySelector(".alert-kind").textContent}))""",
    )
    return rows


def test_the_queue_is_dense_ordered_and_marks_new_and_cleared(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    t0 = time.time() - 3600  # an hour ago: not "new" by age
    for i, (kind, priority) in enumerate(EARLIER):
        _finding(live, kind, priority, t0 + i)
    _finding(live, "smoke_cleared", "low", t0 + 100, **{"zh-CN": "烟雾已消散", "en": "smoke gone"})
    [fall] = [a for a in live.hub.alert_engine.open_alerts() if a.kind == "fall"]
    live.hub.alert_engine.acknowledge(fall.id, "user:zhao.min", t0 + 200)

    page = station_page
    login(page, live.url, STAFF)
    expect(page.locator("#alert-list > li")).to_have_count(len(EARLIER))
    with MqttTestClient(mosquitto.url) as wearable:
        press_sos(wearable)
    expect(page.locator("#alert-list > li")).to_have_count(len(EARLIER) + 1, timeout=20_000)

    rows = _rows(page)
    # unacknowledged first (priority, then the oldest), the acknowledged fall last
    assert rows[-1]["id"] == fall.id and rows[-1]["state"] == "acknowledged"
    waiting = rows[:-1]
    assert all(r["state"] == "open" for r in waiting)
    keys = [(-RANK[r["priority"]], r["since"]) for r in waiting]
    assert keys == sorted(keys), "open alerts by priority, then the oldest first"
    # only what arrived while the console was open is "new"
    assert [r["kind"] for r in rows if r["isNew"]] == ["紧急求助"]
    sos = page.locator("#alert-list > li[data-new=true]")
    expect(sos.locator(".new-mark")).to_be_visible()
    # the condition that cleared is on the row
    smoke = page.locator('#alert-list > li:has(.alert-kind:text-is("烟雾"))')
    expect(smoke.locator(".alert-summary.alert-cleared")).to_have_text("已恢复：烟雾已消散")

    # 15 or more rows fit in the queue on a 1366x768 screen without scrolling
    visible = page.eval_on_selector(
        "#alert-list",
        """list => { const box = list.getBoundingClientRect();
            return [...list.children].filter(li => { const r = li.getBoundingClientRect();
                return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; }).length; }""",
    )
    assert visible >= 15, f"only {visible} rows visible"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def _burst(url: str, stop: threading.Event) -> None:
    """The resident keeps pressing SOS: each press updates the open alert."""
    seq = 1000
    with MqttTestClient(url) as wearable:
        while not stop.is_set():
            seq += 1
            body = {"ts": time.time(), "seq": seq, "type": "sos", "press": "long"}
            wearable.publish(f"carehub/v1/devices/{WEARABLE}/event", json.dumps(body).encode(), 1)
            stop.wait(0.05)


def test_a_slow_acknowledge_click_during_a_burst_of_updates_is_not_lost(
    station_page: Any, live: LiveServer, mosquitto: Any
) -> None:
    from playwright.sync_api import expect

    page = station_page
    row, alert_id = sos_on_the_console(page, live.url, mosquitto.url, STAFF)
    ack = row.locator("button.btn-ack")
    ack.focus()
    ack.evaluate("el => { window.ackButton = el; }")

    def count() -> int:
        return int(row.get_attribute("data-count") or 0)

    stop = threading.Event()
    burst = threading.Thread(target=_burst, args=(mosquitto.url, stop), daemon=True)
    burst.start()
    try:
        wait_until("a few updates of the row", lambda: count() >= 5, within=30)
        # the same button, still focused, after the row was updated again and again
        assert page.evaluate("document.activeElement === window.ackButton && ackButton.isConnected")

        box = ack.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        pressed_at = count()
        wait_until("updates while the button is held down", lambda: count() >= pressed_at + 2,
                   within=30)  # fmt: skip
        page.mouse.up()
        expect(row).to_have_attribute("data-state", "acknowledged", timeout=15_000)
    finally:
        stop.set()
        burst.join(10)
    stored = wait_until("the acknowledgement in the store",
                        lambda: live.store.get_alert(alert_id).data["acked_by"])  # fmt: skip
    assert stored == f"user:{STAFF}"
