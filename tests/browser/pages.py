"""Steps the browser tests share: logging in through the login form, publishing as the
wearable."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.browser.server import PASSWORD, WEARABLE
from tests.fixtures.mqtt_client import MqttTestClient


def login(page: Any, base_url: str, user: str, *, lands_on: str = "/static/index.html") -> None:
    """Log in with the form on the start page and wait for the page the role lands on."""
    page.goto(f"{base_url}/")
    page.fill("#login-user", user)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"**{lands_on}*")
    page.wait_for_selector('#conn[data-state="live"]')


def press_sos(device: MqttTestClient, seq: int = 1, device_id: str = WEARABLE) -> None:
    """The resident presses the SOS button of their wearable."""
    body = {"ts": time.time(), "seq": seq, "type": "sos", "press": "long"}
    device.publish(f"carehub/v1/devices/{device_id}/event", json.dumps(body).encode(), 1)


def sos_on_the_console(page: Any, live_url: str, broker_url: str, user: str) -> tuple[Any, str]:
    """Log ``user`` in on the console, let the wearable press SOS, and wait for its row:
    the top row of the queue (open) and its alert id."""
    from playwright.sync_api import expect

    login(page, live_url, user)
    with MqttTestClient(broker_url) as wearable:
        press_sos(wearable)
    row = page.locator("#alert-list > li").first
    expect(row).to_have_attribute("data-state", "open", timeout=20_000)
    return row, str(row.get_attribute("data-alert-id"))


def send_vitals(device: MqttTestClient, seq: int, **values: float) -> None:
    body = {"ts": time.time(), "seq": seq, **values}
    device.publish(f"carehub/v1/devices/{WEARABLE}/telemetry", json.dumps(body).encode(), 1)
