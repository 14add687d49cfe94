"""The engine over a real (SQLite) store with an injected clock: every rule, the
timeline, commands and replies, failing channels and the restart."""

from __future__ import annotations

import json

import pytest

from alerts import state as st
from alerts.commands import CommandOut
from alerts.engine import AlertEngine, AlertEvent, NotificationDue
from alerts.rules import Silence, maintenance_window
from alerts.runner import AlertRunner
from hub.store.base import Contact, Resident
from hub.store.sqlite import SqliteStore

from .conftest import ROLES, T0, RecordingSender, finding, make_engine


def channels(effects: list) -> list[str]:
    return [e.row.channel for e in effects if isinstance(e, NotificationDue)]


def actions(engine: AlertEngine, alert_id: str) -> list[str]:
    return [e.action for e in engine.timeline(alert_id=alert_id)]


def test_open_notifies_the_station_at_once(engine: AlertEngine) -> None:
    effects = engine.on_finding(finding("fall", peak_g=3.4), T0)
    assert channels(effects) == list(ROLES["station"])
    (alert,) = engine.open_alerts()
    assert (alert.kind, alert.priority, alert.state, alert.station_id) == (
        "fall", "high", "open", "st-1",
    )  # fmt: skip
    assert alert.next_deadline == T0 + 60
    assert actions(engine, alert.id) == ["opened", "escalated"]
    stored = engine.get_alert(alert.id)
    assert stored == alert


def test_repeats_count_and_long_lie_merges_into_the_fall(engine: AlertEngine) -> None:
    engine.on_finding(finding("fall"), T0)
    effects = engine.on_finding(finding("long_lie", minutes=10), T0 + 5)
    assert channels(effects) == []  # same round, nobody told twice
    (alert,) = engine.open_alerts()
    assert (alert.count, alert.evidence["minutes"]) == (2, 10)
    assert len(engine.list_alerts()) == 1


def test_escalation_steps_then_stop_on_acknowledge(engine: AlertEngine) -> None:
    engine.on_finding(finding("sos"), T0)
    assert engine.tick(T0 + 59) == []
    assert channels(engine.tick(T0 + 60)) == list(ROLES["supervisor"])
    alert_id = engine.open_alerts()[0].id
    effects = engine.acknowledge(alert_id, "nurse-li", T0 + 90)
    assert engine.get_alert(alert_id).next_deadline is None
    assert channels(engine.tick(T0 + 10_000)) == []
    (cmd,) = [e for e in effects if isinstance(e, CommandOut)]
    assert cmd.topic == "carehub/v1/devices/w-1/cmd"
    payload = json.loads(cmd.payload)
    assert (payload["cmd"], payload["pattern"], payload["alert_id"]) == (
        "notify", "help_coming", alert_id,
    )  # fmt: skip
    assert engine.get_alert(alert_id).command_status == "sent"
    assert engine.on_reply("w-1", cmd.command_id, "done", T0 + 92)
    assert engine.get_alert(alert_id).command_status == "done"
    assert not engine.on_reply("w-1", "unknown", "done", T0 + 92)
    tl = engine.timeline(alert_id=alert_id)
    assert [e.action for e in tl][-3:] == ["acknowledged", "command_sent", "command_reply"]
    assert tl[-1].actor == "device:w-1"
    assert [e.actor for e in tl if e.action == "acknowledged"] == ["nurse-li"]


def test_family_and_district_after_three_minutes(engine: AlertEngine) -> None:
    engine.on_finding(finding("fall"), T0)
    engine.tick(T0 + 60)
    got = channels(engine.tick(T0 + 180))
    assert got == ["json://127.0.0.1:9/son", *ROLES["district"]]
    # then repeats to everyone reached, every 2 min
    assert len(channels(engine.tick(T0 + 300))) == 4


def test_latched_fall_waits_for_a_person(engine: AlertEngine) -> None:
    engine.on_finding(finding("fall"), T0)
    engine.on_finding(finding("fall_recovered", "low"), T0 + 30)
    (alert,) = engine.open_alerts()
    assert alert.state == "open" and alert.condition_cleared_at == T0 + 30
    done = engine.resolve(alert.id, "nurse-li", "false_alarm", T0 + 60, note="sat down")
    assert (done.state, done.outcome, done.resolved_by) == ("resolved", "false_alarm", "nurse-li")
    assert engine.open_alerts() == []
    # a new fall after resolution opens a new alert (the first one's finding cannot)
    engine.on_finding(finding("fall"), T0 + 100)
    assert len(engine.list_alerts(kind="fall")) == 1
    engine.on_finding(finding("fall", at=T0 + 100), T0 + 100)
    assert len(engine.list_alerts(kind="fall")) == 2


def test_vitals_clear_themselves_and_cancel_pending(
    engine: AlertEngine, store: SqliteStore
) -> None:
    engine.on_finding(finding("vitals", "medium", spo2=86), T0)
    alert_id = engine.open_alerts()[0].id
    engine.on_finding(finding("vitals_recovered", "low", spo2=95), T0 + 40)
    alert = engine.get_alert(alert_id)
    assert (alert.state, alert.outcome, alert.resolved_by) == ("resolved", "self_cleared", "system")
    assert alert.clear_reason == {"zh-CN": "vitals_recovered 中文", "en": "vitals_recovered reason"}
    assert actions(engine, alert_id)[-1] == "self_cleared"
    assert {n.state for n in store.alert_notifications(alert_id=alert_id)} == {"cancelled"}


def test_gateway_offline_hides_sub_devices(engine: AlertEngine) -> None:
    engine.on_finding(finding("device_offline", "medium", device="door-1"), T0)
    door = engine.open_alerts()[0]
    assert door.suppressed is None and door.subject == "door-1"
    engine.on_finding(finding("device_offline", "medium", device="gw-1"), T0 + 1)
    assert engine.get_alert(door.id).suppressed == "gateway_offline:gw-1"
    # a sub-device going offline while its gateway is down is opened muted
    engine.on_finding(finding("device_online", "low", device="door-1"), T0 + 2)
    again = finding("device_offline", "medium", device="door-1", at=T0 + 3)
    effects = engine.on_finding(again, T0 + 3)
    assert channels(effects) == []
    muted = [a for a in engine.open_alerts() if a.device_id == "door-1"]
    assert muted[0].suppressed == "gateway_offline:gw-1"
    assert all(a.category == "technical" for a in engine.open_alerts())


def test_resident_away_suppresses_activity(engine: AlertEngine, store: SqliteStore) -> None:
    store.update_resident(Resident("r-1", "st-1", "王阿姨", status="hospital"))
    assert channels(engine.on_finding(finding("inactivity", "medium"), T0)) == []
    assert engine.open_alerts()[0].suppressed == "resident_hospital"
    assert channels(engine.on_finding(finding("fall"), T0)) != []


def test_silence_mutes_then_expires(engine: AlertEngine) -> None:
    engine.add_silence(Silence("s-1", T0, T0 + 600, "li", "fire drill", resident_id="r-1",
                               kind="smoke"), T0)  # fmt: skip
    assert channels(engine.on_finding(finding("smoke", device="w-1"), T0 + 1)) == []
    alert = engine.open_alerts()[0]
    assert alert.suppressed == "silence:s-1"
    assert engine.tick(T0 + 599) == []
    assert channels(engine.tick(T0 + 600)) == list(ROLES["station"])
    assert engine.get_alert(alert.id).suppressed is None
    assert "unsuppressed" in actions(engine, alert.id)


def test_new_silence_mutes_open_alerts_and_cancel_restores(engine: AlertEngine) -> None:
    engine.on_finding(finding("vitals", "medium"), T0)
    engine.add_silence(Silence("s-2", T0, T0 + 3600, "li", "calibrating", resident_id="r-1"),
                       T0 + 1)  # fmt: skip
    assert engine.open_alerts()[0].suppressed == "silence:s-2"
    assert engine.tick(T0 + 1_000) == []
    assert channels(engine.cancel_silence("s-2", "li", T0 + 1_001)) == list(ROLES["station"])


def test_maintenance_window_mutes_technical_not_clinical(engine: AlertEngine) -> None:
    window = maintenance_window("m-1", start=T0, end=T0 + 3600, author="wu",
                                reason="gateway swap", station_id="st-1")  # fmt: skip
    engine.add_silence(window, T0)
    assert channels(engine.on_finding(finding("low_battery", "low"), T0 + 1)) == []
    assert channels(engine.on_finding(finding("sos"), T0 + 2)) != []


def test_priority_raise_restarts_escalation(engine: AlertEngine) -> None:
    engine.on_finding(finding("vitals", "medium"), T0)
    effects = engine.on_finding(finding("vitals", "high"), T0 + 5)
    assert channels(effects) == list(ROLES["station"])
    alert = engine.open_alerts()[0]
    assert (alert.priority, alert.next_deadline) == ("high", T0 + 65)
    assert "priority_raised" in actions(engine, alert.id)


def test_listeners_see_changes(engine: AlertEngine) -> None:
    seen: list[AlertEvent] = []
    engine.add_listener(seen.append)
    engine.on_finding(finding("fall"), T0)
    alert_id = engine.open_alerts()[0].id
    engine.acknowledge(alert_id, "li", T0 + 1)
    engine.comment(alert_id, "li", "on my way", T0 + 2)
    assert [e.action for e in seen] == ["opened", "escalated", "acknowledged", "comment"]
    assert seen[2].alert.state == "acknowledged"
    assert seen[0].entries[0].action == "opened"


def test_queries_for_the_dashboard(engine: AlertEngine) -> None:
    engine.on_finding(finding("fall"), T0)
    engine.on_finding(finding("low_battery", "low", device="w-2", resident="r-2"), T0 + 1)
    assert [a.kind for a in engine.list_alerts(station_id="st-1")] == ["low_battery", "fall"]
    assert [a.kind for a in engine.list_alerts(priority="high")] == ["fall"]
    assert [a.kind for a in engine.list_alerts(category="technical")] == ["low_battery"]
    assert [a.kind for a in engine.list_alerts(states=["open"], resident_id="r-1")] == ["fall"]
    assert {e.alert_id for e in engine.timeline(resident_id="r-2")} == {
        engine.list_alerts(category="technical")[0].id
    }
    with pytest.raises(st.TransitionError):
        engine.comment(engine.open_alerts()[0].id, "li", "  ", T0)


def test_quiet_hours_skip_family_except_high(engine: AlertEngine, store: SqliteStore) -> None:
    night = T0 + 14 * 3600  # 23:00 in Shanghai
    daughter = "json://127.0.0.1:9/daughter"
    prefs = {"quiet_hours": "22:00-07:00", "min_priority": "low"}
    store.add_contact(Contact("c-2", "r-2", "李女士", channels=(daughter,), prefs=prefs))
    engine.on_finding(finding("vitals", "medium", device="w-2", resident="r-2"), night)
    engine.on_finding(finding("sos", "high", device="w-2", resident="r-2"), night)
    engine.tick(night + 180)  # high: family step
    engine.tick(night + 600)  # medium: family step
    sos, vit = engine.list_alerts(kind="sos")[0], engine.list_alerts(kind="vitals")[0]
    assert daughter in [n.channel for n in store.alert_notifications(alert_id=sos.id)]
    assert daughter not in [n.channel for n in store.alert_notifications(alert_id=vit.id)]
    (entry,) = [e for e in engine.timeline(alert_id=vit.id)
                if e.action == "escalated" and e.detail["round"] == "s1"]  # fmt: skip
    assert entry.detail["skipped"] == [
        {"target": "family", "contact": "c-2", "reason": "quiet hours 22:00-07:00"}
    ]


@pytest.mark.allow_error_logs
async def test_failing_channel_is_retried_recorded_and_raises_technical_alert(
    store: SqliteStore,
) -> None:
    engine = make_engine(store, retry_delays_s=(5.0, 5.0, 5.0))
    sender = RecordingSender()
    sender.failing.add(ROLES["station"][0])
    runner = AlertRunner(engine, sender)
    engine.on_finding(finding("fall"), T0)
    now = T0
    for _ in range(3):
        await runner.run_once(now)
        now += 5
    tl = engine.timeline(alert_id=engine.list_alerts(kind="fall")[0].id)
    failures = [e for e in tl if e.action == "notify_failed"]
    assert [f.detail["attempt"] for f in failures] == [1, 2, 3]
    assert failures[0].detail["error"] == "HTTP 503"
    assert "s3cret" not in json.dumps([f.detail for f in failures])
    (down,) = engine.list_alerts(kind="channel_down")
    assert (down.category, down.state, down.resident_id) == ("technical", "open", "r-1")
    # the channel recovers: the next success clears the technical alert by itself
    sender.failing.clear()
    await runner.run_once(now)
    assert engine.get_alert(down.id).outcome == "self_cleared"
    rows = store.alert_notifications(alert_id=engine.list_alerts(kind="fall")[0].id)
    assert [(r.state, r.attempts) for r in rows] == [("sent", 4)]


async def test_restart_mid_escalation_sends_exactly_once(tmp_path: object) -> None:
    from pathlib import Path

    from .conftest import seed

    path = Path(str(tmp_path)) / "restart.db"
    first = SqliteStore(path)
    first.migrate()
    seed(first)
    engine = make_engine(first)
    sender = RecordingSender()
    runner = AlertRunner(engine, sender)
    engine.on_finding(finding("fall"), T0)
    await runner.run_once(T0)
    await runner.run_once(T0 + 30)
    assert [c for c, _ in sender.sent] == list(ROLES["station"])
    first.close()  # the hub stops mid-escalation (before the 60 s step)

    store = SqliteStore(path)
    store.migrate()
    engine2 = make_engine(store)  # recover(T0) inside
    after = RecordingSender()
    runner2 = AlertRunner(engine2, after)
    effects = engine2.recover(T0 + 45)
    assert effects == []
    await runner2.run_once(T0 + 45)
    assert after.sent == []
    await runner2.run_once(T0 + 59.9)
    assert after.sent == []
    await runner2.run_once(T0 + 60)
    await runner2.run_once(T0 + 61)
    assert [c for c, _ in after.sent] == list(ROLES["supervisor"])
    assert after.sent[0][1].key.endswith(after.sent[0][1].payload["idempotency_key"][-12:])
    # a second restart after the send: nothing goes out again
    engine3 = make_engine(store)
    runner3 = AlertRunner(engine3, after)
    await runner3.run_once(T0 + 62)
    assert len(after.sent) == 1
    store.close()
