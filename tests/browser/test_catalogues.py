"""The message catalogues: zh-CN and en have the same keys and no empty message; every key
the pages name literally (data-i18n attributes, t("...") calls) exists; and the keys built
at run time from the hub's vocabularies (alert kinds, outcomes, priorities, states, device
kinds, event types, roles, command replies, error codes) exist too. No browser needed."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest

from alerts.state import KINDS, PRIORITIES, Outcome, State
from dashboard.routers.session import LANGUAGES
from hub.contract.models import EVENT_TYPES, DeviceKind
from hub.store.base import ORDER_STATUSES, ROLES, SERVICE_KINDS, ResidentStatus

ROOT = Path(__file__).resolve().parents[2] / "dashboard"
STATIC = ROOT / "static"
LITERAL_KEY = re.compile(
    r"""data-i18n(?:-[a-z-]+)?["']?\s*[=:]\s*["']([A-Za-z0-9_.]+)["']"""
    r"""|\bt(?:Or)?\(\s*["']([A-Za-z0-9_.]+)["']"""
)


def _catalogue(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((ROOT / "i18n" / f"{lang}.json").read_text("utf-8"))
    return data


STRING = re.compile(r"""["']([a-z_]+\.[a-z0-9_]+)["']""")
"""Any whole string literal shaped like a key (labels handed to the admin helpers)."""


def _literal_keys() -> dict[str, set[str]]:
    prefixes = {k.split(".")[0] for k in _catalogue("zh-CN")}
    found: dict[str, set[str]] = {}
    for path in sorted(STATIC.glob("*.html")) + sorted(STATIC.glob("*.js")):
        text = path.read_text("utf-8")
        for m in LITERAL_KEY.finditer(text):
            found.setdefault(m.group(1) or m.group(2), set()).add(path.name)
        if path.suffix == ".js":
            for m in STRING.finditer(text):
                if m.group(1).split(".")[0] in prefixes:
                    found.setdefault(m.group(1), set()).add(path.name)
    return found


def test_both_languages_have_the_same_keys_and_no_empty_message() -> None:
    assert set(LANGUAGES) == {"zh-CN", "en"}
    zh, en = _catalogue("zh-CN"), _catalogue("en")
    assert sorted(set(zh) ^ set(en)) == []
    assert [k for k, v in {**zh, **en}.items() if not v.strip()] == []
    # the Chinese catalogue is Chinese: most of its messages contain CJK characters
    cjk = [k for k, v in zh.items() if re.search(r"[\u4e00-\u9fff]", v)]
    assert len(cjk) > 0.9 * len(zh)


def test_every_key_named_in_the_pages_exists() -> None:
    used = _literal_keys()
    assert len(used) > 100  # the scan found the pages' keys
    missing = {k: sorted(files) for k, files in used.items() if k not in _catalogue("zh-CN")}
    assert missing == {}


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("kind", list(KINDS)),
        ("outcome", list(typing.get_args(Outcome))),
        ("priority", list(PRIORITIES)),
        ("state", list(typing.get_args(State))),
        ("status", list(typing.get_args(ResidentStatus))),
        ("kind_device", [k.value for k in DeviceKind]),
        ("event", list(EVENT_TYPES)),
        ("role", list(ROLES)),
        ("command", ["sent", "received", "done", "failed", "unsupported"]),
        ("conn", ["live", "connecting", "offline"]),
        ("device", ["online", "offline", "unknown"]),
        ("error", ["unauthorized", "forbidden", "csrf", "not_found", "conflict",
                   "invalid_transition", "validation_error", "rate_limited", "too_far",
                   "no_worker", "worker_unavailable", "no_emergency_service", "no_resident",
                   "no_address_position"]),
        ("svc_kind", list(SERVICE_KINDS)),
        ("order_status", list(ORDER_STATUSES)),
    ],
)  # fmt: skip
def test_keys_built_at_run_time_exist(prefix: str, values: list[str]) -> None:
    for lang in LANGUAGES:
        catalogue = _catalogue(lang)
        assert [v for v in values if f"{prefix}.{v}" not in catalogue] == [], lang
