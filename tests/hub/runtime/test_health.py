"""The store probe behind /healthz: answers from its cache at once, whatever the store does."""

from __future__ import annotations

import asyncio
import threading
import time

from hub.errors import StoreError
from hub.runtime.health import StoreProbe


class Store:
    """A probe target that answers, fails, or hangs until released."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.release = threading.Event()
        self.calls = 0

    def list_cities(self) -> list[str]:
        self.calls += 1
        if self.mode == "hang":
            self.release.wait(10)
        if self.mode == "fail":
            raise StoreError("connection refused")
        return []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_probe_reports_from_its_cache_and_says_how_old() -> None:
    store, clock = Store(), Clock()
    probe = StoreProbe(store.list_cities, interval_s=3600, timeout_s=0.2, clock=clock)
    assert probe.report() == {"ok": False, "error": "not probed yet", "age_s": None}
    await probe.start()
    try:
        assert probe.report() == {"ok": True, "error": None, "age_s": 0.0}
        clock.now += 4.5
        assert probe.report()["age_s"] == 4.5
        store.mode = "fail"
        await probe.check()
        assert probe.report() == {"ok": False, "error": "connection refused", "age_s": 0.0}
    finally:
        await probe.stop()


async def test_a_hanging_store_is_reported_down_without_waiting_for_it() -> None:
    store = Store()
    probe = StoreProbe(store.list_cities, interval_s=3600, timeout_s=0.2)
    await probe.start()
    try:
        store.mode = "hang"
        started = time.monotonic()
        await probe.check()
        assert time.monotonic() - started < 5.0  # bounded by timeout_s, not by the store
        assert probe.report()["ok"] is False
        assert probe.report()["error"] == "no answer within 0.2 s"
        await probe.check()  # the first probe still hangs: not a second thread behind it
        assert store.calls == 2  # start() and the hanging one
        assert str(probe.report()["error"]).startswith("no answer for ")
        store.mode = "ok"
        store.release.set()
        for _ in range(100):
            await probe.check()
            if probe.report()["ok"]:
                break
            await asyncio.sleep(0.02)
        assert (probe.report()["ok"], probe.report()["error"]) == (True, None)
    finally:
        store.release.set()
        await probe.stop()
