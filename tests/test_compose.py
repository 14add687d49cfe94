"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the YAML parses,
every file it mounts or builds from exists, every ``CAREHUB_*`` variable it sets is a real
setting, every long-running service has a health check, every ``${VAR}`` it needs is in
``deploy/env.example``, and every path the Dockerfile copies exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboard.settings import DashboardSettings
from hub.settings import HubSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = compose["services"]
    assert isinstance(services, dict)
    return services


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=VALUE form
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _settings_env_names() -> set[str]:
    names = set()
    for cls in (HubSettings, DashboardSettings):
        prefix = cls.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def test_the_services_of_a_production_like_deployment(compose: dict[str, Any]) -> None:
    services = _services(compose)
    images = {name: str(s.get("image", "")) for name, s in services.items()}
    assert any(i.startswith("eclipse-mosquitto") for i in images.values())
    assert any(i.startswith("timescale/timescaledb") for i in images.values())
    hub = services["hub"]
    assert hub.get("build") == "."
    env = _environment(hub)
    assert env["CAREHUB_ENVIRONMENT"] == "production"
    assert env["CAREHUB_DATABASE_URL"].startswith("postgresql://")
    assert env["CAREHUB_MQTT_URL"].startswith("mqtt://")
    # secrets come from .env, never written into the file
    for key in ("CAREHUB_MQTT_PASSWORD", "CAREHUB_SESSION_SECRET"):
        assert VARIABLE.fullmatch(env[key]), (key, env[key])


def test_every_referenced_file_exists(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            assert (ROOT / context).is_dir(), (name, context)
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            assert (ROOT / context / (dockerfile or "Dockerfile")).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in (compose.get("volumes") or {}), (name, source)


def test_every_carehub_variable_is_a_real_setting(compose: dict[str, Any]) -> None:
    known = _settings_env_names()
    seen = set()
    for name, service in _services(compose).items():
        for key in _environment(service):
            if key.startswith("CAREHUB_"):
                seen.add(key)
                assert key in known, f"{name}: {key} is not a setting of the hub or dashboard"
    assert {"CAREHUB_DATABASE_URL", "CAREHUB_MQTT_URL", "CAREHUB_SESSION_SECRET"} <= seen


def test_health_checks_and_start_order(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, service in services.items():
        one_shot = str(service.get("restart", "")) == "no"
        if not one_shot:
            test = service.get("healthcheck", {}).get("test")
            assert test, f"{name} has no health check"
        for dep, cond in (service.get("depends_on") or {}).items():
            assert dep in services, (name, dep)
            wanted = "service_completed_successfully" if services[dep].get("restart") == "no" \
                else "service_healthy"  # fmt: skip
            assert cond["condition"] == wanted, (name, dep, cond)
    assert set(services["hub"]["depends_on"]) >= {"mosquitto", "timescaledb"}


def test_the_cluster_profile(compose: dict[str, Any]) -> None:
    services = _services(compose)
    cluster = {n: s for n, s in services.items() if "cluster" in s.get("profiles", [])}
    commands = {n: s["command"][:3] for n, s in cluster.items() if "command" in s}
    assert sorted(n for n, c in commands.items() if c[:2] == ["carehub", "bridge"]) == [
        "bridge-1", "bridge-2"]  # fmt: skip
    assert len([c for c in commands.values() if c[:2] == ["carehub", "worker"]]) == 3
    assert commands["dashboard"] == ["carehub", "serve", "--dashboard-only"]
    for name in ("bridge-1", "worker-1"):
        env = _environment(cluster[name])
        assert env["CAREHUB_HEALTH_PORT"] == "8081"
        check = " ".join(cluster[name]["healthcheck"]["test"])
        assert "8081/readyz" in check, name


def test_every_needed_variable_is_in_the_env_example() -> None:
    needed = set(VARIABLE.findall(COMPOSE.read_text(encoding="utf-8")))
    example = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert needed, "docker-compose.yml takes no variables from .env?"
    assert needed <= example, needed - example
    # a placeholder the hub refuses in production, so nobody runs with the example
    assert "change-me" in ENV_EXAMPLE.read_text(encoding="utf-8")


def test_the_dockerfile_copies_existing_paths_and_runs_the_hub() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    copied = 0
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            *sources, _dest = line.split()[1:]
            for src in sources:
                assert (ROOT / src).exists(), src
                copied += 1
    assert copied >= 4
    assert re.search(r"^USER (?!root)\S+", text, re.MULTILINE), "the image runs as root"
    assert "/healthz" in text.split("HEALTHCHECK", 1)[1]
    assert re.search(r'^CMD \["carehub", "serve"\]', text, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".venv" in ignored


def test_the_broker_config_uses_dynamic_security() -> None:
    conf = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text(encoding="utf-8")
    settings = dict(
        line.split(None, 1) for line in conf.splitlines() if line and not line.startswith("#")
    )
    assert settings["allow_anonymous"] == "false"
    assert settings["plugin"].endswith("mosquitto_dynamic_security.so")
    assert settings["plugin_opt_config_file"].startswith("/mosquitto/data/")
