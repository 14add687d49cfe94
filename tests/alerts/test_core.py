"""The pure core: state transitions, rules, escalation timing, recipients, templates."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from alerts import escalation as esc
from alerts import state as st
from alerts.recipients import in_quiet_hours, recipients
from alerts.rules import Facts, RuleError, Silence, maintenance_window, suppression
from alerts.templates import render
from hub.store.base import Contact

from .conftest import ROLES, T0


def fall(at: float = 0.0) -> st.Alert:
    return st.new_alert("al-1", st.spec_for("fall"), subject="r-1", kind="fall",
                        priority="high", at=at, resident_id="r-1", device_id="w-1")  # fmt: skip


def vitals(at: float = 0.0) -> st.Alert:
    return st.new_alert("al-2", st.spec_for("vitals"), subject="r-1", kind="vitals",
                        priority="medium", at=at, resident_id="r-1")  # fmt: skip


# --- state ---------------------------------------------------------------------------------


def test_lifecycle_open_ack_resolve_records_who_and_when() -> None:
    a = st.acknowledge(fall(), "nurse-li", 30.0)
    assert (a.state, a.acked_by, a.acked_at, a.assigned_to) == (
        "acknowledged", "nurse-li", 30.0, "nurse-li",
    )  # fmt: skip
    r = st.resolve(a, "nurse-li", "handled_by_phone", 90.0, note="she is fine")
    assert (r.state, r.outcome, r.resolved_by, r.resolved_at, r.note) == (
        "resolved", "handled_by_phone", "nurse-li", 90.0, "she is fine",
    )  # fmt: skip


@pytest.mark.parametrize("outcome", st.PERSON_OUTCOMES)
def test_every_person_outcome_resolves_from_open(outcome: str) -> None:
    assert st.resolve(fall(), "li", outcome, 1.0).outcome == outcome


def test_illegal_moves_are_refused() -> None:
    a = fall()
    with pytest.raises(st.TransitionError):
        st.acknowledge(a, st.SYSTEM, 1.0)
    with pytest.raises(st.TransitionError):
        st.acknowledge(a, "  ", 1.0)
    with pytest.raises(st.TransitionError):
        st.resolve(a, "li", "self_cleared", 1.0)
    with pytest.raises(st.TransitionError):
        st.resolve(a, "li", "nonsense", 1.0)
    with pytest.raises(st.TransitionError):
        st.resolve(a, st.SYSTEM, "test", 1.0)
    acked = st.acknowledge(a, "li", 1.0)
    with pytest.raises(st.TransitionError):
        st.acknowledge(acked, "wu", 2.0)
    done = st.resolve(acked, "li", "test", 3.0)
    for move in (
        lambda: st.resolve(done, "li", "test", 4.0),
        lambda: st.repeat(done, priority="high", at=4.0),
        lambda: st.condition_cleared(done, {}, 4.0),
        lambda: st.assign(done, "li", "wu", 4.0),
    ):
        with pytest.raises(st.TransitionError):
            move()
    with pytest.raises(st.TransitionError):
        st.new_alert("x", st.spec_for("fall"), subject="r", kind="fall", priority="urgent",  # type: ignore[arg-type]
                     at=0.0)  # fmt: skip


def test_latched_alert_stays_open_when_condition_clears() -> None:
    a = st.condition_cleared(fall(), {"en": "got up"}, 50.0)
    assert a.state == "open"
    assert (a.condition_cleared_at, a.clear_reason) == (50.0, {"en": "got up"})


def test_non_latched_alert_clears_itself_with_reason() -> None:
    a = st.condition_cleared(vitals(), {"en": "SpO2 back to 96"}, 50.0)
    assert (a.state, a.outcome, a.resolved_by) == ("resolved", "self_cleared", st.SYSTEM)
    assert a.clear_reason == {"en": "SpO2 back to 96"}


def test_non_latched_alert_acknowledged_waits_for_a_person() -> None:
    a = st.condition_cleared(st.acknowledge(vitals(), "li", 10.0), {"en": "ok"}, 50.0)
    assert a.state == "acknowledged"
    assert a.condition_cleared_at == 50.0


def test_repeat_counts_updates_evidence_and_never_lowers_priority() -> None:
    a = st.repeat(vitals(), priority="high", at=5.0, evidence={"spo2": 85}, finding_id=7)
    assert (a.count, a.priority, a.evidence, a.finding_ids) == (2, "high", {"spo2": 85}, (7,))
    b = st.repeat(a, priority="low", at=6.0, evidence={"spo2": 88})
    assert (b.count, b.priority, b.evidence["spo2"]) == (3, "high", 88)


def test_kind_catalogue() -> None:
    assert st.spec_for("fall").latched and st.spec_for("sos").latched
    assert st.spec_for("smoke").latched and st.spec_for("gas").latched
    assert not st.spec_for("vitals").latched
    assert st.spec_for("device_offline").category == "technical"
    assert st.spec_for("brand_new_kind") == st.KindSpec("clinical", latched=False)
    assert st.alert_kind("long_lie") == "fall"
    assert st.cleared_kinds("gas_cleared") == ("gas",)
    assert st.cleared_kinds("device_online") == ("device_offline",)


def test_alert_round_trips_through_a_dict() -> None:
    a = st.repeat(fall(), priority="high", at=3.0, evidence={"g": 3.1}, finding_id=4)
    assert st.Alert.from_dict(a.to_dict()) == a


def test_pure_modules_import_no_io() -> None:
    forbidden = {"asyncio", "paho", "psycopg", "fastapi", "httpx", "apprise", "sqlite3",
                 "threading", "time", "uuid"}  # fmt: skip
    for name in ("state", "rules", "escalation", "recipients", "templates", "commands", "core",
                 "plan", "memory", "muting", "rounds", "delivery", "people", "storms"):  # fmt: skip
        tree = ast.parse(Path(f"alerts/{name}.py").read_text(encoding="utf-8"))
        imported = {
            (n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
        } | {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}  # fmt: skip
        assert not imported & forbidden, (name, imported & forbidden)


# --- rules ---------------------------------------------------------------------------------


def facts(kind: str, **kw: object) -> Facts:
    base: dict[str, object] = {"resident_id": "r-1", "device_id": "door-1", "station_id": "st-1"}
    base.update(kw)
    return Facts(kind, st.spec_for(kind), **base)  # type: ignore[arg-type]


def test_gateway_offline_inhibits_sub_device_offline() -> None:
    f = facts("device_offline", gateway_id="gw-1")
    assert suppression(f, offline_gateways={"gw-1"}, silences=(), at=0) == "gateway_offline:gw-1"
    assert suppression(f, offline_gateways={"gw-9"}, silences=(), at=0) is None


@pytest.mark.parametrize("status", ["away", "hospital", "inactive"])
def test_resident_away_suppresses_activity_but_not_falls(status: str) -> None:
    assert suppression(facts("inactivity", resident_status=status), offline_gateways=(),
                       silences=(), at=0) == f"resident_{status}"  # fmt: skip
    assert suppression(facts("fall", resident_status=status), offline_gateways=(), silences=(),
                       at=0) is None  # fmt: skip
    assert suppression(facts("inactivity", resident_status="home"), offline_gateways=(),
                       silences=(), at=0) is None  # fmt: skip


def test_silence_scope_start_and_expiry() -> None:
    s = Silence("s-1", start=100, end=200, author="li", reason="drill", resident_id="r-1",
                kind="fall")  # fmt: skip
    f = facts("fall")
    assert suppression(f, offline_gateways=(), silences=[s], at=99) is None
    assert suppression(f, offline_gateways=(), silences=[s], at=100) == "silence:s-1"
    assert suppression(f, offline_gateways=(), silences=[s], at=200) is None
    assert suppression(facts("sos"), offline_gateways=(), silences=[s], at=150) is None
    assert suppression(facts("fall", resident_id="r-2"), offline_gateways=(), silences=[s],
                       at=150) is None  # fmt: skip


def test_maintenance_window_mutes_technical_only() -> None:
    w = maintenance_window("m-1", start=0, end=3600, author="wu", reason="gateway swap",
                           station_id="st-1")  # fmt: skip
    assert suppression(facts("device_offline"), offline_gateways=(), silences=[w], at=10) == (
        "maintenance:m-1"
    )
    assert suppression(facts("fall"), offline_gateways=(), silences=[w], at=10) is None


def test_bad_silences_are_refused() -> None:
    with pytest.raises(RuleError):
        Silence("s", start=0, end=10, author="li", reason="x")  # no scope
    with pytest.raises(RuleError):
        Silence("s", start=10, end=10, author="li", reason="x", resident_id="r")
    with pytest.raises(RuleError):
        Silence("s", start=0, end=10, author="", reason="x", resident_id="r")
    with pytest.raises(RuleError):
        maintenance_window("m", start=0, end=1, author="a", reason="b")


# --- escalation ----------------------------------------------------------------------------


def test_default_policy_timing() -> None:
    plan = esc.default_policy().for_priority("high")
    assert [f.targets for f in esc.due_firings(plan, base=0, steps_fired=0, repeats_fired=0,
                                               now=0)] == [("station",)]  # fmt: skip
    assert esc.next_deadline(plan, base=0, steps_fired=1, repeats_fired=0) == 60
    assert esc.due_firings(plan, base=0, steps_fired=1, repeats_fired=0, now=59.9) == []
    assert esc.next_deadline(plan, base=0, steps_fired=3, repeats_fired=0) == 300
    medium = esc.default_policy().for_priority("medium")
    assert esc.next_deadline(medium, base=0, steps_fired=1, repeats_fired=0) == 600


def test_overdue_steps_all_fire_but_repeats_collapse() -> None:
    plan = esc.default_policy().for_priority("high")
    fired = esc.due_firings(plan, base=0, steps_fired=1, repeats_fired=0, now=1_000)
    assert [(f.step, f.repeat) for f in fired] == [(1, 0), (2, 0), (2, 6)]
    assert fired[-1].targets == ("station", "supervisor", "family", "district")
    assert esc.fired_counts(fired, 1, 0) == (3, 6)


def test_repeats_stop_at_max() -> None:
    plan = esc.PriorityPlan(steps=(esc.Step(after_s=0, notify=("a",)),), repeat_every_s=60,
                            max_repeats=2)  # fmt: skip
    assert esc.next_deadline(plan, base=0, steps_fired=1, repeats_fired=2) is None


def test_policy_validation() -> None:
    steps = [{"after_s": 0, "notify": ["nurse", "family"]}]
    good = esc.parse_policy(
        {"station_id": "st-1", "roles": {"nurse": ["json://x"]}, "high": {"steps": steps}}
    )
    assert good.high.steps[0].notify == ("nurse", "family")
    for bad in (
        {"high": {"steps": [{"after_s": 0, "notify": ["ghost"]}]}},
        {"roles": {"a": []}, "high": {"steps": [{"after_s": 60, "notify": ["a"]},
                                                {"after_s": 0, "notify": ["a"]}]}},
        {"roles": {"family": []}},
        {"high": {"steps": [{"after_s": -1, "notify": ["family"]}]}},
        {"unknown_field": 1},
    ):  # fmt: skip
        with pytest.raises(esc.PolicyError):
            esc.parse_policy(bad)


# --- recipients and templates --------------------------------------------------------------


def test_quiet_hours_wrap_midnight() -> None:
    assert in_quiet_hours("22:00-07:00", 6, 59)
    assert not in_quiet_hours("22:00-07:00", 7, 0)
    assert in_quiet_hours("13:00-14:00", 13, 30)
    assert not in_quiet_hours("garbage", 13, 30)


def test_family_quiet_hours_except_high_and_min_priority() -> None:
    prefs = {"quiet_hours": "22:00-07:00", "min_priority": "medium", "language": "en"}
    son = Contact("c-1", "r-1", "son", channels=("json://son",), prefs=prefs)
    pol = esc.default_policy("st-1", ROLES)
    night = T0 + 14 * 3600  # 23:00 in Shanghai
    kw = {"policy": pol, "contacts": [son], "timezone": "Asia/Shanghai"}
    chosen, skipped = recipients(["family"], priority="medium", at=night, **kw)  # type: ignore[arg-type]
    assert chosen == [] and skipped[0].reason.startswith("quiet hours")
    chosen, _ = recipients(["family"], priority="high", at=night, **kw)  # type: ignore[arg-type]
    assert [(r.channel, r.language) for r in chosen] == [("json://son", "en")]
    chosen, _ = recipients(["family"], priority="medium", at=T0, **kw)  # type: ignore[arg-type]
    assert [r.channel for r in chosen] == ["json://son"]
    chosen, skipped = recipients(["family", "station"], priority="low", at=T0, **kw)  # type: ignore[arg-type]
    assert [r.target for r in chosen] == ["station"]
    assert skipped[0].reason == "below min_priority medium"


def test_templates_in_both_languages() -> None:
    a = st.repeat(fall(), priority="high", at=1.0)
    zh_title, zh_body = render(a, "zh-CN", resident="王阿姨", place="潍坊路 1 号",
                               link="https://h/alerts/al-1", repeat=2)  # fmt: skip
    assert zh_title == "【高】跌倒 - 王阿姨"
    assert "潍坊路 1 号" in zh_body and "https://h/alerts/al-1" in zh_body
    assert "第 2 次提醒" in zh_body and "次数: 2" in zh_body
    en_title, en_body = render(a, "en", resident="Wang", place=None, link=None)
    assert en_title == "[HIGH] Fall – Wang"
    assert "Alert: Fall (HIGH)" in en_body
