"""Screenshots of the console, a resident's detail and the family page, for the docs.

Run ``python -m tests.browser.screenshots [--out docs/screenshots]``: it starts the embedded
broker, a hub on a temporary SQLite store filled with a demo station (a week of vital signs,
home events, alerts of each priority), serves the dashboard, and drives Debian's Chromium
(``CAREHUB_CHROMIUM``, default ``/usr/bin/chromium``) with Playwright.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from hub.store.base import (
    Contact,
    Device,
    EventRow,
    FindingRow,
    IngestBatch,
    Resident,
    ResidentStatus,
    Store,
    TelemetryRow,
)
from hub.store.sqlite import SqliteStore
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE_VIEWPORT, STATION_VIEWPORT
from tests.browser.pages import login
from tests.browser.server import FAMILY, STAFF, live_server, populate, wait_until
from tests.fixtures.brokers import AmqttThread
from tests.fixtures.mqtt_client import MqttTestClient

DEMO: list[tuple[str, str, ResidentStatus, int]] = [  # id, name, status, birth year
    ("r-2", "李桂兰", "home", 1938), ("r-3", "张建国", "home", 1945),
    ("r-4", "陈玉珍", "home", 1940), ("r-5", "刘志强", "home", 1947),
    ("r-6", "杨淑芬", "home", 1936), ("r-7", "赵国庆", "away", 1949),
    ("r-8", "黄美玲", "hospital", 1939), ("r-9", "周秀兰", "home", 1943),
]  # fmt: skip
HISTORY_S = 7 * 86_400


def _history(store: Store, device: str, now: float, rng: random.Random, hr0: float) -> int:
    """A week of plausible vital signs: a daily rhythm plus noise, every 5 minutes in the
    last day and every 20 before. Returns the last sequence number used."""
    rows, seq = [], 0
    t = now - HISTORY_S
    while t < now - 120:
        seq += 1
        hour = (t / 3600 + 8) % 24  # Asia/Shanghai
        day = math.sin((hour - 4) / 24 * 2 * math.pi)
        values = {
            "hr": round(hr0 + 7 * day + rng.gauss(0, 3), 1),
            "spo2": round(min(100.0, 96.5 + rng.gauss(0, 0.8)), 1),
            "temp": round(36.4 + 0.3 * day + rng.gauss(0, 0.08), 2),
            "rr": round(15 + 2 * day + rng.gauss(0, 0.8), 1),
            "battery": round(max(5.0, 95 - 70 * ((t - now + HISTORY_S) % 172_800) / 172_800), 0),
        }
        if seq % 24 == 0:
            values |= {"sbp": round(128 + 8 * day + rng.gauss(0, 5)),
                       "dbp": round(78 + 4 * day + rng.gauss(0, 3))}  # fmt: skip
        rows.append(TelemetryRow(device, seq, t, t + 0.4, values))
        t += 300 if now - t < 86_400 else 1_200
    store.write_batch(IngestBatch(telemetry=rows))
    return seq


def _events(store: Store, device: str, now: float, seq: int) -> int:
    """Home events after the history's sequence numbers; returns the last one used."""
    rooms = [("motion", "kitchen"), ("door", "entrance"), ("motion", "living_room"),
             ("toilet", "bathroom"), ("bed", "bedroom")]  # fmt: skip
    rows = []
    for i, (kind, room) in enumerate(rooms * 2):
        at = now - 600 * (i + 1)
        rows.append(EventRow(device, seq + 1 + i, at, at + 0.3, kind, {"room": room}))
    store.write_batch(IngestBatch(events=rows))
    return seq + len(rows)


def build_demo(store: Store, now: float) -> dict[str, int]:
    """The demo station; returns each wearable's last history sequence number."""
    populate(store, now)
    rng = random.Random(7)
    for rid, name, status, born in DEMO:
        store.add_resident(
            Resident(
                rid,
                "st-1",
                name,
                address=f"花木路 {rid[2:]}8 弄",
                lat=31.21,
                lon=121.54,
                birth_year=born,
                status=status,
            )
        )
        store.add_contact(Contact(f"c-{rid}", rid, "家属", "daughter", "13800000000"))
        store.add_device(Device(f"w-{rid[2:]}", "wearable", vendor="acme", resident_id=rid,
                                interval_s=60, created_at=now))  # fmt: skip
    seqs = {}
    for i, rid in enumerate(["r-1", *(d[0] for d in DEMO)]):
        device = f"w-{rid[2:]}"
        seqs[device] = _history(store, device, now, rng, hr0=66 + 3 * i)
    seqs["w-1"] = _events(store, "w-1", now, seqs["w-1"])
    return seqs


def _finding(device: str, resident: str, kind: str, priority: str, reason: tuple[str, str],
             now: float, **evidence: Any) -> FindingRow:  # fmt: skip
    return FindingRow(resident, device, kind, priority, now, now, evidence,
                      {"zh-CN": reason[0], "en": reason[1]})  # fmt: skip


def take(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    broker = AmqttThread()
    broker.start()
    tmp = tempfile.TemporaryDirectory()
    store = SqliteStore(Path(tmp.name) / "demo.db")
    store.migrate()
    now = time.time()
    seqs = build_demo(store, now)
    shots: list[Path] = []
    try:
        with live_server(store, broker.url) as live, sync_playwright() as pw:
            with MqttTestClient(broker.url) as devices:
                for device, seq in seqs.items():
                    online = device != "w-6"
                    devices.publish(f"carehub/v1/devices/{device}/status", json.dumps(
                        {"state": "online" if online else "offline", "ts": time.time()}
                    ).encode(), 1, retain=True)  # fmt: skip
                    low = device == "w-3"
                    values = {"hr": 70 + seq % 9, "spo2": 97, "temp": 36.5,
                              "battery": 9 if low else 60 + seq % 30}  # fmt: skip
                    body = {"ts": time.time(), "seq": seq + 1, **values}
                    devices.publish(f"carehub/v1/devices/{device}/telemetry",
                                    json.dumps(body).encode(), 1)  # fmt: skip
                devices.publish("carehub/v1/devices/w-1/event", json.dumps(
                    {"ts": time.time(), "seq": seqs["w-1"] + 2, "type": "sos", "press": "long"}
                ).encode(), 1)  # fmt: skip
            engine = live.hub.alert_engine
            t = time.time()
            engine.on_finding(_finding("w-2", "r-2", "vitals", "medium",
                                       ("血氧 91%，NEWS2 评分 5", "SpO2 91%, NEWS2 score 5"),
                                       t - 420, spo2=91), t - 420)  # fmt: skip
            medium = next(a for a in engine.open_alerts() if a.resident_id == "r-2")
            engine.acknowledge(medium.id, f"user:{STAFF}", t - 300, None)
            engine.on_finding(_finding("w-3", "r-3", "low_battery", "low",
                                       ("手环电量 9%", "Wearable battery at 9%"), t - 900,
                                       battery=9), t - 900)  # fmt: skip
            more = [  # a busy moment: the queue still fits, cleared conditions in green
                ("w-4", "r-4", "fall", "high", ("腕表检测到跌倒：冲击 3.1 g", "Fall, 3.1 g"), 1500),
                ("w-5", "r-5", "inactivity", "medium", ("上午 10 点后无活动", "Inactive"), 2400),
                ("w-6", "r-6", "device_offline", "low", ("手环 25 分钟无数据", "Silent"), 1800),
                ("w-9", "r-9", "bp", "medium", ("血压 168/96", "BP 168/96"), 3000),
            ]  # fmt: skip
            for device, rid, kind, prio, reason, ago in more:
                engine.on_finding(_finding(device, rid, kind, prio, reason, t - ago), t - ago)
            engine.on_finding(_finding("w-4", "r-4", "fall_recovered", "low",
                                       ("已自行起身", "Up again after the fall"), t - 1200),
                              t - 1200)  # fmt: skip
            wait_until("the SOS alert", lambda: any(
                a.kind == "sos" for a in engine.open_alerts()), within=20)  # fmt: skip

            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            station = browser.new_context(viewport=STATION_VIEWPORT, locale="zh-CN",
                                          timezone_id="Asia/Shanghai")  # fmt: skip
            page = station.new_page()
            login(page, live.url, STAFF)
            page.wait_for_selector("#alert-list > li[data-kind], #alert-list > li")
            page.wait_for_timeout(500)
            shots.append(out / "console.png")
            page.screenshot(path=str(shots[-1]))
            page.locator("#alert-list > li button.btn-more").first.click()
            page.wait_for_timeout(200)
            shots.append(out / "console-resolve.png")
            page.screenshot(path=str(shots[-1]))
            page.goto(f"{live.url}/static/resident.html?id=r-1")
            page.wait_for_selector("#charts svg")
            page.wait_for_timeout(500)
            shots.append(out / "resident.png")
            page.screenshot(path=str(shots[-1]), full_page=True)
            phone = browser.new_context(viewport=PHONE_VIEWPORT, device_scale_factor=2,
                                        is_mobile=True, has_touch=True, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")  # fmt: skip
            fpage = phone.new_page()
            login(fpage, live.url, FAMILY, lands_on="/static/family.html")
            fpage.locator("button.btn-going").first.tap()
            fpage.wait_for_selector('li.tl[data-action="going_over"]')
            shots.append(out / "family.png")
            fpage.screenshot(path=str(shots[-1]), full_page=True)
            browser.close()
    finally:
        store.close()
        broker.close()
        tmp.cleanup()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    for path in take(args.out):
        print(path)


if __name__ == "__main__":
    main()
