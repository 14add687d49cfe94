"""Settings of the hub process (``carehub serve``): environment variables with the
``CAREHUB_`` prefix, also read from a ``.env`` file in the working directory.

With nothing set, the hub starts an embedded MQTT broker and keeps its data in SQLite under
``./data``. Built in ``main()``, never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.errors import ConfigError
from hub.timezones import DEFAULT_TIMEZONE, UnknownTimezone, check_timezone

PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "password", "admin", "carehub", "dev", "test"}
)
"""Values no secret may have in production (compared case-insensitively), for every
deployable's settings."""


def is_placeholder(secret: str) -> bool:
    """True for an empty or well-known placeholder secret.

    >>> is_placeholder("ChangeMe"), is_placeholder("x7#kQ2v9")
    (True, False)
    """
    return secret.strip().lower() in PLACEHOLDER_SECRETS


class HubSettings(BaseSettings):
    """Everything ``carehub serve`` can be told."""

    model_config = SettingsConfigDict(env_prefix="CAREHUB_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    mqtt_url: str | None = Field(
        None,
        description="External broker, e.g. mqtts://hub:PASS@broker:8883. Unset: embedded broker.",
    )
    mqtt_password: SecretStr | None = Field(
        None, description="Overrides the password in mqtt_url (keeps it out of the URL)."
    )
    broker_admin_url: SecretStr | None = Field(
        None,
        description="Mosquitto dynamic-security admin, e.g. mqtt://admin:PASS@broker:1883: "
        "device provisioning then creates each device's broker account and ACLs.",
    )
    embedded_mqtt_host: str = "127.0.0.1"
    embedded_mqtt_port: int = 1883
    database_url: str | None = Field(
        None, description="postgresql://... or sqlite:///path. Unset: SQLite in data_dir."
    )
    data_dir: Path = Path("data")
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str | None = Field(
        None, description="Address of the dashboard in notification links (default: http_host)."
    )
    queue_size: int = Field(20_000, ge=100)
    batch_max_rows: int = Field(2_000, ge=1)
    batch_max_delay_s: float = Field(0.1, gt=0, le=10)
    registry_refresh_s: float = Field(5.0, gt=0)
    recent_seq_hours: float = Field(24.0, gt=0)
    dead_letter_days: float = Field(
        30.0, gt=0, description="Dead letters older than this are deleted."
    )
    dead_letter_max: int = Field(
        100_000, ge=100,
        description="Dead letters kept at most (the newest); each holds at most 4 KiB of its "
        "payload, so this bounds their space to about half a gigabyte.",
    )  # fmt: skip
    detect_tick_s: float = Field(5.0, gt=0, description="How often time-based detectors run.")
    detect_warmup_s: float = Field(
        900.0, ge=0,
        description="At a restart, messages received this long before the detection "
        "watermark warm the detectors up (their findings were handled before).",
    )  # fmt: skip
    retry_min_s: float = Field(
        0.5, gt=0, description="First wait before trying an unreachable store again at start."
    )
    retry_max_s: float = Field(
        30.0, gt=0, description="Longest wait between start-up attempts (back-off with jitter)."
    )
    store_connect_timeout_s: float = Field(
        5.0, gt=0, description="How long one start-up attempt waits for the database."
    )
    health_probe_s: float = Field(
        5.0, gt=0, description="How often /healthz's cached store probe is refreshed."
    )
    health_timeout_s: float = Field(
        2.0, gt=0, description="How long a store probe is waited for before it counts as down."
    )
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS server with JetStream, for the cluster mode (carehub bridge/worker).",
    )
    partitions: int = Field(
        64, ge=1, le=4096,
        description="Partitions of the device stream; fixed for the life of a deployment.",
    )  # fmt: skip
    lease_ttl_s: float = Field(
        6.0, gt=0.5, le=300,
        description="A worker's claim on a partition lapses this long after its last renewal.",
    )  # fmt: skip
    stream_max_age_s: float = Field(
        86_400.0, ge=60,
        description="How long JetStream keeps device messages (what a worker can replay "
        "from and the longest outage of all workers to ride out); it is a buffer, the "
        "store is the record.",
    )  # fmt: skip
    snapshot_s: float = Field(
        300.0,
        ge=0,
        description="How often a cluster worker snapshots the slow detector models of each "
        "partition it holds (activity routines, drift baselines) with the partition's "
        "stream sequence; the next owner replays only what came after (0: never).",
    )
    health_port: int = Field(
        0, ge=0, le=65535,
        description="Port of a bridge's or worker's /healthz, /readyz and /metrics "
        "(0: none).",
    )  # fmt: skip
    fencing: bool = Field(
        True,
        description="Every commit of a cluster worker carries its partition's epoch and is "
        "refused when another worker claimed the partition since. Off only to show what "
        "it prevents (the cluster fault test's control run).",
    )
    default_timezone: str = Field(
        DEFAULT_TIMEZONE,
        description="IANA time zone of stations that name none (quiet hours, night rules, "
        "times in messages) and of new dashboard users.",
    )

    @model_validator(mode="after")
    def _safe_for_production(self) -> HubSettings:
        if self.retry_max_s < self.retry_min_s:
            raise ConfigError("CAREHUB_RETRY_MAX_S must not be smaller than CAREHUB_RETRY_MIN_S")
        try:
            check_timezone(self.default_timezone)
        except UnknownTimezone as exc:
            raise ConfigError(f"CAREHUB_DEFAULT_TIMEZONE: {exc}") from exc
        if self.environment != "production":
            return self
        if not self.fencing:
            raise ConfigError("CAREHUB_FENCING=false is for the fault drill's control run only")
        if self.mqtt_url is None or self.database_url is None:
            raise ConfigError(
                "production needs CAREHUB_MQTT_URL and CAREHUB_DATABASE_URL "
                "(the embedded broker and SQLite are for development and demos)"
            )
        if self.mqtt_password is not None and is_placeholder(self.mqtt_password.get_secret_value()):
            raise ConfigError("CAREHUB_MQTT_PASSWORD is a placeholder; set a real secret")
        return self

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'carehub.sqlite3'}"
