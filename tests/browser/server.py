"""A real hub and the dashboard served by uvicorn in a background thread, for browser tests
and the screenshot script: the hub listens on a real broker and writes to a real store;
the browser talks to the dashboard over HTTP and WebSocket like a station PC would."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from carehub.serve import Hub
from dashboard.app import create_app
from dashboard.auth import hash_password
from dashboard.settings import DashboardSettings
from hub.broker.embedded import free_port
from hub.settings import HubSettings
from hub.store.base import City, Contact, Device, District, Resident, Station, Store, UserRow

PASSWORD = "correct horse battery"
START_TIMEOUT_S = 20.0

STAFF = "li.na"
FAMILY = "wang.jun"
SUPERVISOR = "zhao.min"
RESIDENT = "r-1"
RESIDENT_NAME = "王秀英"
WEARABLE = "w-1"


def populate(store: Store, now: float) -> None:
    """One station with a resident (a wearable and a home gateway), a staff member, a
    supervisor and a family member of the resident."""
    store.add_city(City("sh", "上海市"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station("st-1", "pd", "花木街道养老服务站", address="花木路 100 号"))
    store.add_resident(Resident(RESIDENT, "st-1", RESIDENT_NAME, address="花木路 18 弄 3 号 502 室",
                                lat=31.2155, lon=121.5440, birth_year=1941))  # fmt: skip
    store.add_contact(Contact("c-1", RESIDENT, "王军", "son", "13800000001"))
    store.add_device(Device(WEARABLE, "wearable", vendor="acme", resident_id=RESIDENT,
                            interval_s=60, created_at=now))  # fmt: skip
    hashed = hash_password(PASSWORD)
    store.add_user(UserRow(STAFF, "李娜", "station_staff", hashed, now, "st-1"))
    store.add_user(UserRow(SUPERVISOR, "赵敏", "station_supervisor", hashed, now, "st-1"))
    store.add_user(UserRow(FAMILY, "王军", "family", hashed, now, None, (RESIDENT,)))


@dataclass
class LiveServer:
    """The running hub and dashboard; ``url`` is the dashboard's base address."""

    hub: Hub
    store: Store
    url: str
    _stop: Callable[[], None] = field(repr=False)
    app: Any = field(default=None, repr=False)

    def stop(self) -> None:
        self._stop()


@contextlib.contextmanager
def live_server(
    store: Store, mqtt_url: str, *, host: str = "127.0.0.1",
    settings: DashboardSettings | None = None,
) -> Iterator[LiveServer]:  # fmt: skip
    """Run ``Hub(store, mqtt_url)`` and the dashboard on a free port until the block ends."""
    port = free_port()
    hub = Hub(store, f"{mqtt_url}?client_id=browser-{time.time_ns()}&protocol=3",
              settings=HubSettings(http_port=port, public_url=f"http://{host}:{port}"))  # fmt: skip
    settings = settings or DashboardSettings(cookie_secure=False, ws_heartbeat_s=5)
    app = create_app(hub, settings)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            ws_per_message_deflate=False, lifespan="on")  # fmt: skip
    server = uvicorn.Server(config)
    started = threading.Event()
    failure: list[BaseException] = []

    async def run() -> None:
        await hub.start()
        try:
            task = asyncio.create_task(server.serve())
            # uvicorn has no "started" event to wait on, only the flag
            while not server.started and not task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            started.set()
            await task
        finally:
            await hub.stop()

    def thread_main() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # reported to the test thread, which fails clearly
            failure.append(exc)
            started.set()

    thread = threading.Thread(target=thread_main, name="browser-live-server", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT_S) or failure or not server.started:
        server.should_exit = True
        thread.join(10)
        raise RuntimeError(f"the dashboard did not start on port {port}: {failure!r}")

    def stop() -> None:
        server.should_exit = True
        thread.join(15)

    live = LiveServer(hub, store, f"http://{host}:{port}", stop, app)
    try:
        yield live
    finally:
        stop()
        if failure:
            raise RuntimeError(f"the live server failed: {failure[0]!r}") from failure[0]


def wait_until(what: str, check: Callable[[], Any], within: float = 15.0) -> Any:
    """Poll ``check`` until truthy; raise AssertionError naming ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        time.sleep(0.05)
