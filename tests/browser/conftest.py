"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser),
and a live hub + dashboard on a throwaway Mosquitto and a SQLite store.

Without ``/usr/bin/chromium`` or the ``playwright`` package the tests skip with the reason,
except with ``CI=true`` where they fail (``.ci/system-deps.sh`` installs chromium and the
CJK fonts). Override the browser with ``CAREHUB_CHROMIUM=/path/to/chromium``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.store.sqlite import SqliteStore
from tests.browser.server import LiveServer, live_server, populate

CHROMIUM = os.environ.get("CAREHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# typed Any: playwright's ViewportSize is only importable when playwright is installed
STATION_VIEWPORT: Any = {"width": 1366, "height": 768}
PHONE_VIEWPORT: Any = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests must run)")
    pytest.skip(reason)


# Package scope: sync Playwright runs an event loop in this thread until it stops, which
# would break every asyncio test collected after tests/browser.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def live(tmp_path: Path, mosquitto: Any) -> Iterator[LiveServer]:
    """A running hub and dashboard with one station, resident, wearable and three users."""
    store = SqliteStore(tmp_path / "carehub.db")
    store.migrate()
    populate(store, time.time())
    try:
        with live_server(store, mosquitto.url) as server:
            yield server
    finally:
        store.close()


def _unexpected(msg: Any, allow: tuple[str, ...] = ()) -> bool:
    # "who am I" answers 401 before logging in: the page then shows the login form
    expected = ("status of 401", *allow)
    return bool(msg.type == "error" and not any(a in msg.text for a in expected))


def _page(browser: Any, *, allow: tuple[str, ...] = (), **options: Any) -> Iterator[Any]:
    """A page in a fresh context; the test fails when the page's script threw or logged an
    error (a broken module would otherwise only show as a missing element). ``allow``:
    console errors the test provokes on purpose (e.g. ``"status of 409"``)."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda msg: errors.append(msg.text) if _unexpected(msg, allow) else None)
    try:
        yield page
    finally:
        context.close()
    assert errors == [], "the page reported errors"


@pytest.fixture
def station_page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A page on a station PC's screen (1366x768), time zone Asia/Shanghai."""
    yield from _page(browser, viewport=STATION_VIEWPORT, locale="zh-CN",
                     timezone_id="Asia/Shanghai")  # fmt: skip


@pytest.fixture
def phone_page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A page on a phone (390x844, touch)."""
    yield from _page(browser, viewport=PHONE_VIEWPORT, device_scale_factor=2, is_mobile=True,
                     has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip
