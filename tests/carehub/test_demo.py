"""``carehub sim demo`` end to end: started in its own process on free ports with a fresh data
folder, it prints the dashboard's address and a login that works, the simulated station
raises an alert within the first minute, and Ctrl-C stops everything with exit code 0."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hub.broker.embedded import free_port

pytestmark = [pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0
ALERT_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 45.0
BANNER = re.compile(r"demo is running: (http://\S+?)/?\s*$")
LOGIN = re.compile(r"login\s*:\s*(\S+)\s+password:\s*(\S+)")


class _Lines:
    """Collects a stream's lines in a thread so the test can wait for one."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for raw in stream:
            self.lines.append(raw.decode("utf-8", "replace"))

    def text(self) -> str:
        return "".join(self.lines)

    def join(self) -> None:
        self._thread.join(timeout=10)


def _wait_for(what: str, check: Any, timeout: float, proc: subprocess.Popen[bytes],
              out: _Lines) -> Any:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"the demo exited ({proc.returncode}) before {what}:\n{out.text()}")
        time.sleep(0.5)
    pytest.fail(f"no {what} within {timeout:.0f} s:\n{out.text()}")


def test_demo_serves_logs_in_raises_alerts_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "carehub", "sim", "demo", "--data-dir", str(data),
           "--port", str(free_port()), "--mqtt-port", str(free_port())]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip
    out = _Lines(proc.stdout)
    try:

        def banner() -> tuple[str, str, str] | None:
            text = out.text()
            url = next((m.group(1) for line in text.splitlines() if (m := BANNER.search(line))),
                       None)  # fmt: skip
            login = LOGIN.search(text)
            return (url, login.group(1), login.group(2)) if url and login else None

        base, user, password = _wait_for("dashboard URL", banner, START_TIMEOUT_S, proc, out)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        req = urllib.request.Request(
            f"{base}/api/auth/login",
            data=json.dumps({"user": user, "password": password}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with opener.open(req, timeout=30) as resp:
            assert json.loads(resp.read())["user"]["role"] == "station_staff"
        # the family and admin logins are printed too, and work
        for label, role in (("family", "family"), ("admin", "district_admin")):
            m = re.search(rf"{label}\s*:\s*(\S+)\s+password:\s*(\S+)", out.text())
            assert m, out.text()
            other = urllib.request.Request(
                f"{base}/api/auth/login",
                data=json.dumps({"user": m.group(1), "password": m.group(2)}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(other, timeout=30) as resp:
                assert json.loads(resp.read())["user"]["role"] == role
        # a week of history: the resident's charts have days to show
        with opener.open(f"{base}/api/residents?limit=1", timeout=30) as resp:
            rid = json.loads(resp.read())["items"][0]["id"]
        with opener.open(f"{base}/api/residents/{rid}/vitals?window=7d", timeout=30) as resp:
            series = json.loads(resp.read())["series"]
        points = [p["t"] for rows in series.values() for p in rows]
        assert points and max(points) - min(points) > 6 * 86_400, "no week of history"

        def alerts() -> list[dict[str, Any]]:
            with opener.open(f"{base}/api/alerts", timeout=30) as resp:
                items: list[dict[str, Any]] = json.loads(resp.read())["items"]
                return items

        found = _wait_for("alert", alerts, ALERT_TIMEOUT_S, proc, out)
        assert all(a["station_id"] == "demo-station" for a in found)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out.join()
    assert proc.stdout is not None
    proc.stdout.close()
    text = out.text()
    assert code == 0, text
    assert "Traceback" not in text, text
    assert "stopped." in text
    sim_log = (data / "simulator.log").read_text(encoding="utf-8")
    assert "Traceback" not in sim_log, sim_log
    # the session secret is kept too: a console left open survives the next run
    assert len((data / "session_secret").read_text().strip()) >= 32
    # the login is kept for the next run
    assert json.loads((data / "demo-login.json").read_text())["password"] == password
