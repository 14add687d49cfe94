"""The hub's settings: one default time zone, checked; one list of placeholder secrets,
refused in production by every deployable's settings."""

from __future__ import annotations

import pytest

from dashboard.settings import DashboardSettings
from hub.errors import ConfigError
from hub.settings import PLACEHOLDER_SECRETS, HubSettings
from hub.timezones import DEFAULT_TIMEZONE

PRODUCTION = {"environment": "production", "mqtt_url": "mqtts://hub@broker:8883",
              "database_url": "postgresql://db/carehub"}  # fmt: skip


def test_default_time_zone_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert HubSettings().default_timezone == DEFAULT_TIMEZONE
    monkeypatch.setenv("CAREHUB_DEFAULT_TIMEZONE", "Europe/Berlin")
    assert HubSettings().default_timezone == "Europe/Berlin"
    monkeypatch.setenv("CAREHUB_DEFAULT_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ConfigError, match="CAREHUB_DEFAULT_TIMEZONE: unknown time zone"):
        HubSettings()


@pytest.mark.parametrize("secret", sorted(PLACEHOLDER_SECRETS - {""}))
def test_both_deployables_refuse_the_same_placeholders(secret: str) -> None:
    with pytest.raises(ConfigError):
        HubSettings(**PRODUCTION, mqtt_password=secret.upper())  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        DashboardSettings(environment="production", session_secret=secret + " " * 32)
    HubSettings(**PRODUCTION, mqtt_password="x7#kQ2v9-not-a-placeholder")  # type: ignore[arg-type]


def test_fencing_cannot_be_switched_off_in_production() -> None:
    assert HubSettings(**PRODUCTION).fencing  # type: ignore[arg-type]
    HubSettings(fencing=False)  # the drill's control run, in development
    with pytest.raises(ConfigError, match="CAREHUB_FENCING"):
        HubSettings(**PRODUCTION, fencing=False)  # type: ignore[arg-type]
