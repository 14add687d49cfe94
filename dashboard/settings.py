"""Settings of the dashboard (environment variables with the ``CAREHUB_`` prefix, also read
from ``.env``), built in :func:`dashboard.app.create_app`'s caller, never at import time.

In development a random session secret is made at start (sessions then end with the
process); production refuses a missing or placeholder secret, and insecure cookies.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.errors import ConfigError
from hub.settings import is_placeholder

MIN_SECRET_CHARS = 32
SECRET_FILE = "session_secret"  # noqa: S105 - a file name, not a secret
"""In the hub's data directory: the session secret when none is configured."""


class DashboardSettings(BaseSettings):
    """Everything the dashboard can be told."""

    model_config = SettingsConfigDict(env_prefix="CAREHUB_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    session_secret: SecretStr | None = Field(
        None, description="Keys the stored session hashes; 32+ characters in production."
    )
    session_hours: float = Field(
        12.0, gt=0, le=24 * 30,
        description="A shift and a half without activity; activity slides it on.",
    )  # fmt: skip
    session_max_hours: float = Field(
        24.0 * 7, gt=0, le=24 * 90, description="However active, a session ends this long "
        "after its login."
    )  # fmt: skip
    cookie_secure: bool | None = Field(
        None, description="Secure cookies; None: on when the request came over TLS (always "
        "on in production)."
    )  # fmt: skip
    trusted_proxies: str = Field(
        "", description="Comma-separated addresses or networks (CIDR) of the reverse proxies "
        "whose X-Forwarded-For and X-Forwarded-Proto are believed; empty: nobody's."
    )  # fmt: skip
    login_attempts: int = Field(5, ge=1, description="Failed logins per user and address...")
    login_account_attempts: int = Field(20, ge=1, description="...per user from anywhere...")
    login_source_attempts: int = Field(30, ge=1, description="...per address over all users...")
    login_window_s: float = Field(300.0, gt=0, description="...within this many seconds.")
    login_hash_workers: int = Field(
        1, ge=1, le=16, description="Password checks run at once (argon2 is CPU-heavy)."
    )
    login_hash_waiting: int = Field(
        128, ge=0, description="Logins waiting for a password check; more get 503 at once."
    )
    ws_recheck_s: float = Field(
        5.0, gt=0, description="How often open WebSockets have their session checked again."
    )
    default_language: Literal["zh-CN", "en"] = "zh-CN"
    ws_queue_size: int = Field(256, ge=8, description="Frames queued per WebSocket client.")
    ws_heartbeat_s: float = Field(20.0, gt=0)
    ws_vitals_s: float = Field(
        10.0, gt=0, description="At most one live vitals event per device this often (a "
        "dashboard-only node reads the store's newest telemetry this often)."
    )  # fmt: skip
    ws_history: int = Field(10_000, ge=100, description="Events kept for resuming clients.")
    ws_send_timeout_s: float = Field(10.0, gt=0, description="A send slower than this drops.")
    ws_buffer_bytes: int = Field(
        1_048_576, ge=16_384,
        description="Unsent bytes a WebSocket client written to directly may fall behind by.",
    )  # fmt: skip
    map_url: str = Field(
        "https://uri.amap.com/marker?position={lon},{lat}&name={name}",
        description="Map link of an address (a template with lat, lon, name).",
    )
    checkin_radius_m: float = Field(
        200.0, gt=0, le=10_000,
        description="A care worker checks in only this close to the resident's address.",
    )  # fmt: skip
    emergency_late_s: float = Field(
        1_800.0, gt=0,
        description="An emergency visit goes to a worker who can be there within this time.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _safe_for_production(self) -> DashboardSettings:
        self.proxy_networks()  # refuses a malformed list at start, not at the first request
        if self.environment != "production":
            return self
        if self.cookie_secure is False:
            raise ConfigError("CAREHUB_COOKIE_SECURE=false is refused in production")
        value = self.session_secret.get_secret_value() if self.session_secret else ""
        if is_placeholder(value) or len(value) < MIN_SECRET_CHARS:
            raise ConfigError(
                "CAREHUB_SESSION_SECRET is missing or a placeholder; set at least "
                f"{MIN_SECRET_CHARS} random characters (e.g. python -c "
                "'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self

    @property
    def production(self) -> bool:
        return self.environment == "production"

    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """``trusted_proxies`` parsed (ConfigError when an entry is not an address or CIDR)."""
        out = []
        for item in self.trusted_proxies.split(","):
            if item.strip():
                try:
                    out.append(ipaddress.ip_network(item.strip(), strict=False))
                except ValueError:
                    raise ConfigError(
                        f"CAREHUB_TRUSTED_PROXIES: {item.strip()!r} is not an address or "
                        "network (e.g. 10.0.0.5,192.168.1.0/24)"
                    ) from None
        return tuple(out)

    def keep_secret_in(self, data_dir: Path) -> None:
        """Without a configured secret, use the one kept in ``data_dir/session_secret``
        (made on first use, readable by the owner only), so a restarted hub keeps its
        sessions: consoles left open are still logged in after an update or a crash."""
        if self.session_secret is not None:
            return
        path = data_dir / SECRET_FILE
        try:
            value = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            value = ""
        if len(value) < MIN_SECRET_CHARS:
            value = secrets.token_urlsafe(32)
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(value + "\n")
        self.session_secret = SecretStr(value)

    def secret(self) -> bytes:
        """The session secret, or a random one made once per settings object."""
        if self.session_secret is None:
            self.session_secret = SecretStr(secrets.token_urlsafe(32))
        return self.session_secret.get_secret_value().encode()
