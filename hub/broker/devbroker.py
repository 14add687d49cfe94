"""A local Mosquitto with per-device accounts for device developers (``carehub broker dev``).

The embedded broker (amqtt) admits anyone and speaks MQTT 3.1.1 only, so a device developer
never sees what production answers: MQTT 5 reason 0x87 (Not authorized) for a topic outside
the device's own, a refused login, a client id that is not the device's. This starts the
real thing on one port: Mosquitto with the Dynamic Security plugin, configured as
docs/operations.md describes (limits included), its files in one directory, and the hub's
account created. The hub then creates each device's account as it would in production::

    broker = DevBroker(Path("data/dev-broker"), port=1884)
    broker.start()          # mosquitto runs as a child process
    print(broker.admin_url, broker.hub_password)
    broker.stop()

Needs the ``mosquitto`` package (Debian: ``mosquitto``, which brings ``mosquitto_ctrl`` and
the plugin).
"""

from __future__ import annotations

import secrets
import subprocess
import time
from pathlib import Path

from hub.broker.mosquitto import accepts, dynsec_plugin, find_program, mosquitto_conf, stop_process
from hub.errors import BrokerError

START_TIMEOUT = 15.0
HUB_USER = "hub"


def _find(name: str, *extra: str) -> str:
    found = find_program(name, *extra)
    if found is None:
        raise BrokerError(f"{name} is not installed (Debian: apt install mosquitto)")
    return found


class DevBroker:
    """Mosquitto with dynamic security in ``workdir``, listening on ``host:port``."""

    def __init__(self, workdir: Path, *, port: int = 1884, host: str = "127.0.0.1") -> None:
        self.workdir = workdir
        self.host = host
        self.port = port
        self.conf = workdir / "mosquitto.conf"
        self.dynsec_file = workdir / "dynamic-security.json"
        self.secret_file = workdir / "admin-password"
        self.hub_password: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def admin_password(self) -> str:
        return self.secret_file.read_text(encoding="utf-8").strip()

    @property
    def admin_url(self) -> str:
        return f"mqtt://admin:{self.admin_password}@{self.host}:{self.port}"

    @property
    def hub_url(self) -> str:
        return f"mqtt://{HUB_USER}@{self.host}:{self.port}"

    def prepare(self) -> None:
        """Create the directory, the plugin's file with its admin (once) and the config."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.dynsec_file.exists():
            password = secrets.token_urlsafe(16)
            subprocess.run(  # noqa: S603 (our own arguments, no shell)
                [_find("mosquitto_ctrl", "/usr/bin/mosquitto_ctrl"), "dynsec", "init",
                 str(self.dynsec_file), "admin", password],
                check=True, capture_output=True, timeout=30,
            )  # fmt: skip
            self.secret_file.write_text(password + "\n", encoding="utf-8")
            self.secret_file.chmod(0o600)
        conf = mosquitto_conf(
            host=self.host,
            port=self.port,
            log_file=self.workdir / "mosquitto.log",
            dynsec=(dynsec_plugin(), self.dynsec_file),
            persistence_dir=self.workdir,
            settings=["max_queued_messages 100000"],
        )
        header = "# written by `carehub broker dev`: what docs/operations.md describes, on one port"
        self.conf.write_text(f"{header}\n{conf}", encoding="utf-8")

    def start(self) -> None:
        """Start Mosquitto and (re)create the hub's account with a new password."""
        from hub.broker.admin import SyncBrokerAdmin

        if accepts(self.host, self.port):
            raise BrokerError(f"something already listens on {self.host}:{self.port}")
        self.prepare()
        binary = _find("mosquitto", "/usr/sbin/mosquitto")
        self._proc = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            [binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not accepts(self.host, self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"mosquitto did not start; see {self.workdir / 'mosquitto.log'}")
            time.sleep(0.05)
        self.hub_password = secrets.token_urlsafe(24)
        SyncBrokerAdmin(self.admin_url).hub_account(HUB_USER, self.hub_password, rotate=True)

    def wait(self) -> int:
        """Wait until Mosquitto exits; its exit status."""
        assert self._proc is not None
        return self._proc.wait()

    def stop(self) -> None:
        """Stop Mosquitto (by its PID) and wait for it."""
        proc, self._proc = self._proc, None
        stop_process(proc)


__all__ = ["HUB_USER", "DevBroker"]
