"""Two alert engines on one store, as in the cluster mode: the worker running the timers
and a dashboard node acting for the staff, each with its own memory of the alerts. A step
decided on an alert another engine changed meanwhile is decided again on the alert as
stored, on both back-ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alerts.engine import MAX_CONFLICTS, AlertEngine, AlertEvent, NotificationDue
from alerts.runner import AlertRunner
from hub.errors import AlertConflict
from hub.store.base import AlertChanges, NotificationRow, Store

from .conftest import ROLES, T0, RecordingSender, finding, make_engine


def actions(store: Store, alert_id: str) -> list[str]:
    return [e.action for e in store.alert_timeline(alert_id=alert_id)]


def opened_by_the_worker(db: Store, kind: str = "sos") -> tuple[AlertEngine, AlertEngine, str]:
    """The worker's engine opens an alert; a dashboard node's engine starts after it and
    holds the alert in memory too."""
    worker = make_engine(db)
    worker.on_finding(finding(kind), T0)
    [alert] = worker.open_alerts()
    node = make_engine(db)
    assert [a.id for a in node.open_alerts()] == [alert.id]
    return worker, node, alert.id


def test_a_timer_does_not_undo_an_acknowledgement_made_elsewhere(db: Store) -> None:
    worker, node, alert_id = opened_by_the_worker(db)
    node.acknowledge(alert_id, "nurse-li", T0 + 30)
    # the worker has not heard of it yet when its escalation timer fires
    effects = worker.tick(T0 + 60)
    stored = db.get_alert(alert_id)
    assert (stored.state, stored.data["acked_by"]) == ("acknowledged", "nurse-li")
    assert effects == []
    assert actions(db, alert_id) == ["opened", "escalated", "acknowledged", "command_sent"]
    assert db.alert_notifications(alert_id=alert_id, states=["pending"]) == []
    # the worker now holds the alert as stored: nothing is due any more
    [held] = worker.open_alerts()
    assert (held.state, held.next_deadline) == ("acknowledged", None)
    assert worker.tick(T0 + 10_000) == []


def test_a_timer_does_not_reopen_an_alert_resolved_elsewhere(db: Store) -> None:
    worker, node, alert_id = opened_by_the_worker(db)
    node.resolve(alert_id, "nurse-li", "false_alarm", T0 + 30)
    effects = worker.tick(T0 + 60)
    assert db.get_alert(alert_id).state == "resolved"
    assert effects == []
    assert actions(db, alert_id) == ["opened", "escalated", "resolved"]
    assert worker.open_alerts() == []


@pytest.mark.parametrize(
    ("act", "tail"),
    [
        (lambda node, alert_id: node.acknowledge(alert_id, "nurse-li", T0 + 61),
         ["acknowledged", "command_sent"]),
        (lambda node, alert_id: node.resolve(alert_id, "nurse-li", "false_alarm", T0 + 61),
         ["resolved"]),
    ],
    ids=["acknowledge", "resolve"],
)  # fmt: skip
def test_a_person_after_a_timer_they_did_not_see_wins(
    db: Store, act: Callable[[AlertEngine, str], object], tail: list[str]
) -> None:
    worker, node, alert_id = opened_by_the_worker(db)
    # the supervisor's round fires on the worker; the node's copy is from before it
    worker.tick(T0 + 60)
    pending = db.alert_notifications(alert_id=alert_id, states=["pending"])
    assert [n.channel for n in pending if n.round == "s1"] == list(ROLES["supervisor"])
    act(node, alert_id)
    stored = db.get_alert(alert_id)
    assert (stored.state, stored.data["steps_fired"]) == (tail[0], 2)
    # the round the node had not seen is cancelled with the others
    assert db.alert_notifications(alert_id=alert_id, states=["pending"]) == []
    assert actions(db, alert_id) == ["opened", "escalated", "escalated", *tail]


def test_a_step_refused_for_one_stale_alert_is_decided_again_whole(db: Store) -> None:
    """The worker's tick is due on two alerts, one acknowledged meanwhile elsewhere: its
    first commit is refused and rolled back whole, and the tick decided again escalates
    only the other, once."""
    worker, node, first = opened_by_the_worker(db)
    worker.on_finding(finding("sos", device="w-2", resident="r-2"), T0)
    [second] = [a.id for a in worker.open_alerts() if a.id != first]
    node.acknowledge(first, "nurse-li", T0 + 30)
    events: list[AlertEvent] = []
    worker.add_listener(events.append)
    effects = worker.tick(T0 + 60)
    assert [e.row.alert_id for e in effects if isinstance(e, NotificationDue)] == [second]
    assert [(e.action, e.alert.id) for e in events] == [("escalated", second)]
    assert actions(db, first) == ["opened", "escalated", "acknowledged", "command_sent"]
    assert actions(db, second) == ["opened", "escalated", "escalated"]
    assert [n.round for n in db.alert_notifications(alert_id=second)] == ["s0", "s1"]
    assert db.get_alert(second).data["steps_fired"] == 2


class Meanwhile:
    """The store as one engine sees it, on which another process acts at some moment (a
    subclass says when)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class ChangedElsewhere(Meanwhile):
    """A store on which another process changes an alert just before each write of the
    engine over it (an alert written again and again within milliseconds)."""

    def __init__(self, store: Store, other: AlertEngine, alert_id: str) -> None:
        super().__init__(store)
        self.other, self.alert_id = other, alert_id
        self.writes = 0
        self.busy = True

    def write_alert_changes(self, changes: AlertChanges) -> None:
        self.writes += 1
        if self.busy:
            self.other.assign(self.alert_id, "lead-wu", f"nurse-{self.writes}", T0 + 59)
        self.store.write_alert_changes(changes)


def test_a_step_is_decided_again_a_bounded_number_of_times(db: Store) -> None:
    _, node, alert_id = opened_by_the_worker(db)
    busy = ChangedElsewhere(db, node, alert_id)
    worker = make_engine(busy)  # type: ignore[arg-type]
    with pytest.raises(AlertConflict) as refused:
        worker.tick(T0 + 60)
    assert refused.value.alert_ids == (alert_id,)
    assert busy.writes == MAX_CONFLICTS + 1
    assert actions(db, alert_id) == ["opened", "escalated", *["assigned"] * busy.writes]
    assert db.get_alert(alert_id).data["steps_fired"] == 1
    # once the alert is left alone, the next tick goes through on it as stored (its copy
    # is older than the last change: refused once more, then read again)
    busy.busy, last = False, f"nurse-{busy.writes}"
    effects = worker.tick(T0 + 61)
    assert [e.row.target for e in effects if isinstance(e, NotificationDue)] == ["supervisor"]
    assert busy.writes == MAX_CONFLICTS + 3
    stored = db.get_alert(alert_id).data
    assert (stored["steps_fired"], stored["assigned_to"]) == (2, last)


# --- the outbox: messages sent by the worker, cancelled by staff on a dashboard node ------


@pytest.mark.parametrize(("error", "action"), [("HTTP 503", "notify_failed"),
                                               (None, "notified")])  # fmt: skip
@pytest.mark.parametrize("where", ["node", "worker"])
def test_a_delivery_result_does_not_undo_a_cancellation(
    db: Store, where: str, error: str | None, action: str
) -> None:
    """The worker takes the station's message to send it; staff acknowledge meanwhile, on a
    dashboard node or on the worker itself (a single process), which cancels it; the
    worker's failed attempt then schedules no retry, and a delivered one marks nothing."""
    worker, node, alert_id = opened_by_the_worker(db)
    [taken] = worker.due_notifications(T0)
    assert (taken.target, taken.state) == ("station", "pending")
    (node if where == "node" else worker).acknowledge(alert_id, "nurse-li", T0 + 1)
    effects = worker.notification_result(taken, T0 + 2, error)
    assert effects == []
    [row] = db.alert_notifications(alert_id=alert_id)
    assert (row.state, row.attempts, row.sent_at) == ("cancelled", 0, None)
    assert db.alert_notifications(states=["pending"]) == []
    # the attempt itself is on the timeline, with the message left cancelled
    attempt = db.alert_timeline(alert_id=alert_id)[-1]
    assert (attempt.action, attempt.detail["kept"]) == (action, "cancelled")
    assert attempt.detail.get("retry_at") is None
    # no retry ever becomes due, and the worker's timers have nothing left to wake for
    assert worker.due_notifications(T0 + 10_000) == []
    assert worker.next_wakeup() is None
    assert worker.tick(T0 + 10_000) == []


def test_a_delivery_result_that_races_nothing_applies(db: Store) -> None:
    worker, _, alert_id = opened_by_the_worker(db)
    [taken] = worker.due_notifications(T0)
    effects = worker.notification_result(taken, T0 + 1, "HTTP 503")
    [retry] = [e.row for e in effects if isinstance(e, NotificationDue)]
    assert (retry.state, retry.attempts, retry.due_at) == ("pending", 1, T0 + 3)
    assert worker.due_notifications(T0 + 2) == []
    [again] = worker.due_notifications(T0 + 3)
    assert (again.attempts, again.last_error) == (1, "HTTP 503")
    worker.notification_result(again, T0 + 3)
    [row] = db.alert_notifications(alert_id=alert_id)
    assert (row.state, row.attempts, row.sent_at) == ("sent", 2, T0 + 3)
    assert actions(db, alert_id) == ["opened", "escalated", "notify_failed", "notified"]


def test_an_acknowledgement_on_a_copy_from_before_a_send_leaves_it_sent(db: Store) -> None:
    """The node's copy still holds the station's message as unsent when the worker has sent
    it: the acknowledgement cancels nothing it did not see unsent in the store."""
    worker, node, alert_id = opened_by_the_worker(db)
    [taken] = worker.due_notifications(T0)
    worker.notification_result(taken, T0 + 1)
    node.acknowledge(alert_id, "nurse-li", T0 + 2)
    [row] = db.alert_notifications(alert_id=alert_id)
    assert (row.state, row.sent_at) == ("sent", T0 + 1)
    assert db.get_alert(alert_id).state == "acknowledged"
    assert actions(db, alert_id) == [
        "opened", "escalated", "notified", "acknowledged", "command_sent",
    ]  # fmt: skip


class AcknowledgedMeanwhile(Meanwhile):
    """A store on which staff acknowledge an alert on a dashboard node (``then``) just after
    the worker's runner found the alert's messages due, before it sends them."""

    then: Callable[[], object] | None = None

    def alert_notifications(self, **kw: Any) -> list[NotificationRow]:
        rows = self.store.alert_notifications(**kw)
        if kw.get("due_before") is not None and self.then is not None:
            self.then()
            self.then = None
        return rows


async def test_a_message_cancelled_before_it_is_claimed_is_not_sent(db: Store) -> None:
    meanwhile = AcknowledgedMeanwhile(db)
    worker = make_engine(meanwhile)  # type: ignore[arg-type]
    worker.on_finding(finding("sos"), T0)
    [alert] = worker.open_alerts()
    node = make_engine(db)
    meanwhile.then = lambda: node.acknowledge(alert.id, "nurse-li", T0 + 1)
    sender = RecordingSender()
    runner = AlertRunner(worker, sender, clock=lambda: T0 + 1)
    assert await runner.run_once(T0 + 1) == 0
    assert sender.sent == []
    [row] = db.alert_notifications(alert_id=alert.id)
    assert (row.state, row.attempts) == ("cancelled", 0)
    assert actions(db, alert.id) == ["opened", "escalated", "acknowledged", "command_sent"]
    # the worker forgot the message; its next round then finds the alert acknowledged
    assert worker.next_wakeup() == T0 + 60
    assert worker.tick(T0 + 60) == []
    assert worker.next_wakeup() is None


def test_an_engine_told_of_an_alert_changed_elsewhere_takes_its_messages_too(
    db: Store,
) -> None:
    """What the change notifications hand an engine (carehub/engine_sync.py): the alert as
    stored, and with it its messages as stored."""
    worker, node, alert_id = opened_by_the_worker(db)
    assert worker.next_wakeup() == T0  # the station's message, unsent
    node.acknowledge(alert_id, "nurse-li", T0 + 1)
    worker.remember([db.get_alert(alert_id)])
    assert worker.next_wakeup() is None  # cancelled elsewhere: nothing to wake for


def test_a_node_acknowledging_an_alert_it_heard_of_cancels_its_messages(db: Store) -> None:
    """A dashboard node started before the worker opened the alert learns of it from the
    change notifications, with its unsent messages: acknowledging cancels them."""
    node = make_engine(db)
    worker = make_engine(db)
    worker.on_finding(finding("sos"), T0)
    [alert] = worker.open_alerts()
    node.remember([db.get_alert(alert.id)])
    node.acknowledge(alert.id, "nurse-li", T0 + 1)
    assert [n.state for n in db.alert_notifications(alert_id=alert.id)] == ["cancelled"]
