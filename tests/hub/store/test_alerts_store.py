"""The alert tables of the Store contract, on both back-ends: alerts with one unresolved
alert per key, the append-only timeline, the notification outbox, silences, policies."""

from __future__ import annotations

import dataclasses

import pytest

from hub.errors import AlertConflict, AlertExists, Conflict, NotFound
from hub.store.base import (
    AlertChanges,
    AlertRow,
    FindingRow,
    NotificationRow,
    SilenceRow,
    Store,
    TimelineRow,
    finding_key,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z; multiples of a microsecond round-trip exactly


def alert(alert_id: str, key: str = "r-1|fall", state: str = "open", **kw: object) -> AlertRow:
    base = AlertRow(
        alert_id, key, key.split("|")[1], state, "high", "clinical", T0, T0, resident_id="r-1",
        device_id="w-1", station_id="st-1", next_deadline=T0 + 60,
        data={"id": alert_id, "subject": key.partition("|")[0], "count": 1, "evidence": {"g": 3.5}},
    )  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def note(n: NotificationRow, **kw: object) -> NotificationRow:
    return dataclasses.replace(n, **kw)  # type: ignore[arg-type]


def test_alert_round_trip_and_update(store: Store) -> None:
    store.write_alert_changes(AlertChanges(alerts=[alert("al-1")]))
    got = store.get_alert("al-1")
    assert got.key == "r-1|fall"
    assert got.data["evidence"] == {"g": 3.5}
    assert got.next_deadline == pytest.approx(T0 + 60)
    store.write_alert_changes(
        AlertChanges(alerts=[alert("al-1", state="acknowledged", next_deadline=None, version=1)])
    )
    got = store.get_alert("al-1")
    assert (got.state, got.next_deadline, got.version) == ("acknowledged", None, 2)
    with pytest.raises(NotFound):
        store.get_alert("al-missing")


def test_one_unresolved_alert_per_key(store: Store) -> None:
    store.write_alert_changes(AlertChanges(alerts=[alert("al-1")]))
    with pytest.raises(Conflict):
        store.write_alert_changes(
            AlertChanges(
                alerts=[alert("al-2")],
                timeline=[TimelineRow("al-2", T0, "system", "opened")],
            )
        )
    # the failed transaction left nothing behind
    assert store.alert_timeline(alert_id="al-2") == []
    # once resolved, the key is free again; both stay queryable
    store.write_alert_changes(AlertChanges(alerts=[alert("al-1", state="resolved", version=1)]))
    store.write_alert_changes(AlertChanges(alerts=[alert("al-2", opened_at=T0 + 5)]))
    assert [a.id for a in store.list_alerts()] == ["al-2", "al-1"]
    assert [a.id for a in store.unresolved_alerts()] == ["al-2"]
    assert store.get_alert("al-1").key == "r-1|fall"


def test_a_trigger_opens_one_alert_ever(store: Store) -> None:
    trigger = finding_key("w-1", "fall", T0)
    fid = store.write_findings([FindingRow("r-1", "w-1", "fall", "high", T0, T0)])[0]
    store.write_alert_changes(AlertChanges(
        alerts=[alert("al-1", trigger=trigger)], handled_findings=[fid], handled_at=T0 + 1,
    ))  # fmt: skip
    assert store.get_alert("al-1").trigger == trigger
    assert store.unhandled_findings(T0 - 60) == []
    # updates of the same alert keep its trigger
    resolved = alert("al-1", trigger=trigger, state="resolved", version=1)
    store.write_alert_changes(AlertChanges(alerts=[resolved]))
    # the same finding again, even once the first alert is resolved: refused, nothing written
    with pytest.raises(AlertExists) as refused:
        store.write_alert_changes(AlertChanges(
            alerts=[alert("al-2", trigger=trigger, opened_at=T0 + 9)],
            timeline=[TimelineRow("al-2", T0 + 9, "system", "opened")],
        ))  # fmt: skip
    assert (refused.value.alert_id, refused.value.trigger) == ("al-1", trigger)
    assert [a.id for a in store.list_alerts()] == ["al-1"]
    assert store.alert_timeline(alert_id="al-2") == []
    # alerts without a trigger (and other triggers) never collide
    store.write_alert_changes(AlertChanges(alerts=[alert("al-3", opened_at=T0 + 10),
                                                   alert("al-4", key="r-2|fall")]))  # fmt: skip
    assert {a.id for a in store.list_alerts()} == {"al-1", "al-3", "al-4"}


def test_an_alert_is_updated_only_over_the_version_it_was_read_at(store: Store) -> None:
    store.write_alert_changes(AlertChanges(alerts=[alert("al-1")]))
    read = store.get_alert("al-1")
    assert read.version == 1
    store.write_alert_changes(
        AlertChanges(alerts=[dataclasses.replace(read, state="acknowledged")])
    )
    assert store.get_alert("al-1").version == 2
    # a second writer decided on the version it read before that change: refused
    with pytest.raises(AlertConflict) as refused:
        store.write_alert_changes(
            AlertChanges(alerts=[dataclasses.replace(read, state="resolved")])
        )
    assert refused.value.alert_ids == ("al-1",)
    now = store.get_alert("al-1")
    assert (now.state, now.version) == ("acknowledged", 2)


def test_a_stale_alert_rolls_its_whole_step_back(store: Store) -> None:
    fid = store.write_findings([FindingRow("r-1", "w-1", "fall", "high", T0, T0)])[0]
    n = NotificationRow("al-2:s0:abc", "al-2", "s0", "station", "json://x", T0, T0)
    store.write_alert_changes(AlertChanges(
        alerts=[alert("al-1"), alert("al-2", key="r-2|sos")], notifications=[n],
    ))  # fmt: skip
    one, two = store.get_alert("al-1"), store.get_alert("al-2")
    [n] = store.alert_notifications()
    store.write_alert_changes(AlertChanges(alerts=[dataclasses.replace(one, priority="low")]))
    step = AlertChanges(
        alerts=[
            dataclasses.replace(two, state="acknowledged"),  # current: would be written
            dataclasses.replace(one, state="resolved"),  # stale
            alert("al-3", key="r-3|sos"),  # new
        ],
        timeline=[TimelineRow("al-2", T0 + 9, "nurse-li", "acknowledged")],
        notifications=[note(n, key="al-2:s1:abc", round="s1")],
        notification_updates=[note(n, state="cancelled", updated_at=T0 + 9)],
        handled_findings=[fid], handled_at=T0 + 9,
    )  # fmt: skip
    with pytest.raises(AlertConflict) as refused:
        store.write_alert_changes(step)
    assert refused.value.alert_ids == ("al-1",)
    assert [(a.id, a.state, a.version) for a in store.list_alerts()] == [
        ("al-2", "open", 1), ("al-1", "open", 2),
    ]  # fmt: skip
    assert store.alert_timeline() == []
    assert [(r.key, r.state) for r in store.alert_notifications()] == [(n.key, "pending")]
    assert [f.id for f in store.unhandled_findings(T0 - 60)] == [fid]


def test_an_outbox_row_is_updated_only_over_the_version_it_was_read_at(store: Store) -> None:
    """A delivery result decided on the row as it was before a cancellation is refused, with
    everything else of its step."""
    n = NotificationRow("al-1:s0:abc", "al-1", "s0", "station", "json://x", T0, T0)
    store.write_alert_changes(AlertChanges(alerts=[alert("al-1")], notifications=[n]))
    taken = store.get_notification(n.key)
    assert (taken.state, taken.version) == ("pending", 1)
    store.write_alert_changes(
        AlertChanges(notification_updates=[note(taken, state="cancelled", updated_at=T0 + 1)])
    )
    result = AlertChanges(
        alerts=[dataclasses.replace(store.get_alert("al-1"), priority="low")],  # current
        timeline=[TimelineRow("al-1", T0 + 2, "system", "notify_failed")],
        notification_updates=[note(taken, attempts=1, due_at=T0 + 4, updated_at=T0 + 2)],
    )
    with pytest.raises(AlertConflict) as refused:
        store.write_alert_changes(result)
    assert (refused.value.alert_ids, refused.value.notification_keys) == (("al-1",), (n.key,))
    assert n.key in str(refused.value)
    now = store.get_notification(n.key)
    assert (now.state, now.attempts, now.version) == ("cancelled", 0, 2)
    assert (store.get_alert("al-1").priority, store.alert_timeline()) == ("high", [])
    with pytest.raises(NotFound):
        store.get_notification("al-1:s0:missing")


def test_outbox_rows_are_read_again_in_one_query(store: Store) -> None:
    """What the runner claims a round with: the rows of the keys as stored now; unknown keys
    are left out, and no keys read nothing."""
    rows = [NotificationRow(f"al-1:s0:{i}", "al-1", "s0", "station", "json://x", T0, T0)
            for i in range(3)]  # fmt: skip
    store.write_alert_changes(AlertChanges(alerts=[alert("al-1")], notifications=rows))
    first = store.get_notification(rows[0].key)
    store.write_alert_changes(
        AlertChanges(notification_updates=[note(first, state="cancelled", updated_at=T0 + 1)])
    )
    got = store.notifications_by_key([rows[0].key, rows[2].key, "al-1:s0:missing"])
    assert sorted((r.key, r.state, r.version) for r in got) == [
        (rows[0].key, "cancelled", 2), (rows[2].key, "pending", 1),
    ]  # fmt: skip
    assert store.notifications_by_key([]) == []
    store.write_alert_changes(AlertChanges(
        alerts=[alert("al-2", key="r-2|fall")],
        notifications=[NotificationRow("al-2:s0:x", "al-2", "s0", "station", "json://x", T0, T0)],
    ))  # fmt: skip
    of_both = store.notifications_of_alerts(["al-1", "al-2", "al-missing"])
    assert [r.key for r in of_both] == sorted([*(r.key for r in rows), "al-2:s0:x"])
    assert [r.key for r in store.notifications_of_alerts(["al-2"])] == ["al-2:s0:x"]
    assert store.notifications_of_alerts([]) == []


def test_list_alerts_filters(store: Store) -> None:
    store.write_alert_changes(
        AlertChanges(
            alerts=[
                alert("al-1"),
                alert("al-2", key="w-2|device_offline", category="technical", priority="low",
                      station_id="st-2", resident_id=None, opened_at=T0 + 1),
                alert("al-3", key="r-3|vitals", state="acknowledged", priority="medium",
                      resident_id="r-3", opened_at=T0 + 2),
            ]
        )
    )  # fmt: skip
    assert [a.id for a in store.list_alerts(station_id="st-1")] == ["al-3", "al-1"]
    assert [a.id for a in store.list_alerts(category="technical")] == ["al-2"]
    assert [a.id for a in store.list_alerts(priority="medium")] == ["al-3"]
    assert [a.id for a in store.list_alerts(states=["open"])] == ["al-2", "al-1"]
    assert [a.id for a in store.list_alerts(resident_id="r-3")] == ["al-3"]
    assert [a.id for a in store.list_alerts(kind="fall")] == ["al-1"]
    assert store.list_alerts(states=[]) == []
    assert len(store.list_alerts(limit=2)) == 2


def test_timeline_is_ordered_and_queryable(store: Store) -> None:
    entries = [
        TimelineRow("al-1", T0, "system", "opened", {"priority": "high"}, "r-1"),
        TimelineRow("al-2", T0 + 1, "system", "opened", {}, "r-2"),
        TimelineRow("al-1", T0 + 2, "nurse-li", "acknowledged", {"note": "我去看看"}, "r-1"),
        TimelineRow("al-1", T0 + 2, "system", "command_sent", {"command_id": "c-1"}, "r-1"),
    ]
    store.write_alert_changes(AlertChanges(timeline=entries[:2]))
    store.write_alert_changes(AlertChanges(timeline=entries[2:]))
    got = store.alert_timeline(alert_id="al-1")
    assert [e.action for e in got] == ["opened", "acknowledged", "command_sent"]
    assert got[1].detail == {"note": "我去看看"}
    assert got[1].actor == "nurse-li"
    assert all(e.id is not None for e in got)
    assert [e.alert_id for e in store.alert_timeline(resident_id="r-2")] == ["al-2"]
    assert len(store.alert_timeline(since=T0 + 1)) == 3
    assert not hasattr(store, "delete_timeline")


def test_outbox_never_duplicates_and_updates(store: Store) -> None:
    n = NotificationRow("al-1:s0:abc", "al-1", "s0", "station", "json://x", T0, T0)
    store.write_alert_changes(AlertChanges(notifications=[n]))
    # writing the same key again (a replayed step) changes nothing
    store.write_alert_changes(AlertChanges(notifications=[note(n, channel="json://other")]))
    rows = store.alert_notifications(alert_id="al-1")
    assert [(r.key, r.channel, r.state) for r in rows] == [("al-1:s0:abc", "json://x", "pending")]
    assert store.alert_notifications(states=["pending"], due_before=T0 - 1) == []
    store.write_alert_changes(
        AlertChanges(
            notification_updates=[
                note(rows[0], state="failed", attempts=2, last_error="HTTP 500", due_at=T0 + 30,
                     updated_at=T0 + 5)
            ]
        )
    )  # fmt: skip
    row = store.alert_notifications()[0]
    assert (row.state, row.attempts, row.last_error, row.version) == ("failed", 2, "HTTP 500", 2)
    assert row.due_at == pytest.approx(T0 + 30)
    assert row.updated_at == pytest.approx(T0 + 5)
    assert store.alert_notifications(states=["pending"]) == []
    assert [r.key for r in store.alert_notifications(states=["failed", "sent"])] == [n.key]


def test_silences(store: Store) -> None:
    s1 = SilenceRow("s-1", T0, T0 + 3600, "li", "drill", T0 - 10, resident_id="r-1")
    s2 = SilenceRow("s-2", T0 + 100, T0 + 200, "wu", "gateway swap", T0, station_id="st-1",
                    technical_only=True)  # fmt: skip
    store.add_silence(s1)
    store.add_silence(s2)
    with pytest.raises(Conflict):
        store.add_silence(s1)
    assert [s.id for s in store.list_silences()] == ["s-1", "s-2"]
    assert [s.id for s in store.list_silences(active_at=T0 + 50)] == ["s-1"]
    assert [s.id for s in store.list_silences(active_at=T0 + 150)] == ["s-1", "s-2"]
    assert store.list_silences()[1].technical_only is True
    store.cancel_silence("s-1", T0 + 120, "li")
    assert [s.id for s in store.list_silences(active_at=T0 + 150)] == ["s-2"]
    assert [s.id for s in store.list_silences(active_at=T0 + 110)] == ["s-1", "s-2"]
    assert [s.id for s in store.list_silences()] == ["s-2"]
    cancelled = store.list_silences(include_cancelled=True)[0]
    assert cancelled.cancelled_by == "li"
    assert cancelled.cancelled_at == pytest.approx(T0 + 120)
    with pytest.raises(NotFound):
        store.cancel_silence("s-9", T0, "li")


def test_escalation_policies(store: Store) -> None:
    assert store.escalation_policies() == {}
    store.set_escalation_policy("st-1", {"roles": {"station": ["json://a"]}}, T0)
    store.set_escalation_policy("st-1", {"roles": {"station": ["json://b"]}}, T0 + 1)
    store.set_escalation_policy("*", {}, T0)
    assert store.escalation_policies() == {"*": {}, "st-1": {"roles": {"station": ["json://b"]}}}
