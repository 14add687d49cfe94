"""Mosquitto as a child process: the text of its config file, and stopping it by PID.

Shared by ``carehub broker dev`` (:mod:`hub.broker.devbroker`) and the test fixtures that
start a throwaway Mosquitto, so both configure the broker the same way (one listener,
the contract's ``max_packet_size``, a log file the current user can write)::

    >>> print(mosquitto_conf(host="127.0.0.1", port=1884, log_file=Path("m.log"),
    ...                      log_types=("error",)).replace(_user(), "USER"), end="")
    listener 1884 127.0.0.1
    allow_anonymous false
    persistence false
    max_packet_size 262144
    user USER
    log_dest file m.log
    log_type error
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hub.contract.limits import MAX_PACKET_BYTES
from hub.errors import BrokerError

PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)


def _user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def find_program(name: str, *extra: str) -> str | None:
    """``name`` on ``PATH``, else the first of the paths ``extra`` that can be run; None."""
    return shutil.which(name) or next((p for p in extra if os.access(p, os.X_OK)), None)


def accepts(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts a TCP connection on ``host:port`` within ``timeout`` s."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def dynsec_plugin() -> str:
    """The path of Mosquitto's Dynamic Security plugin; :class:`BrokerError` when missing."""
    for pattern in PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise BrokerError("Mosquitto's dynamic security plugin is not installed")


def mosquitto_conf(
    *,
    host: str,
    port: int,
    log_file: Path,
    anonymous: bool = False,
    dynsec: tuple[str, Path] | None = None,
    persistence_dir: Path | None = None,
    settings: Sequence[str] = (),
    log_types: Sequence[str] = ("error", "warning", "notice"),
) -> str:
    """A ``mosquitto.conf`` for one listener on ``host:port``.

    ``dynsec`` is the Dynamic Security plugin's library and its JSON file (then every
    client must log in); ``persistence_dir`` keeps sessions and queued messages on disk;
    ``settings`` are further lines, as Mosquitto spells them.
    """
    lines = ["per_listener_settings false"] if dynsec is not None else []
    lines += [f"listener {port} {host}", f"allow_anonymous {str(anonymous).lower()}"]
    if dynsec is not None:
        plugin, config_file = dynsec
        lines += [f"plugin {plugin}", f"plugin_opt_config_file {config_file}"]
    if persistence_dir is None:
        lines.append("persistence false")
    else:
        lines += ["persistence true", f"persistence_location {persistence_dir}/"]
    lines += settings
    # started as root, mosquitto becomes `user`, who must be able to write the log
    lines += [f"max_packet_size {MAX_PACKET_BYTES}", f"user {_user()}", f"log_dest file {log_file}"]
    lines += [f"log_type {kind}" for kind in log_types]
    return "\n".join(lines) + "\n"


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """Terminate ``proc`` (by its PID) and wait for it; kill it if it does not exit in time."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


__all__ = [
    "PLUGIN_GLOBS",
    "accepts",
    "dynsec_plugin",
    "find_program",
    "mosquitto_conf",
    "stop_process",
]
