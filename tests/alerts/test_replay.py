"""A finding taken in twice — fed again after a restart — opens one alert and sends one
notification, on both back-ends: its id is on the open alert, and the store keeps one
alert per triggering finding once that alert is resolved."""

from __future__ import annotations

from alerts.runner import AlertRunner
from hub.store.base import FindingRow, Store

from .conftest import ROLES, T0, RecordingSender, finding, make_engine


def stored(store: Store, kind: str = "fall", at: float = T0, **kw: object) -> FindingRow:
    """A finding as the detectors store it (with its id), not yet taken in."""
    row = finding(kind, at=at, **kw)  # type: ignore[arg-type]
    [fid] = store.write_findings([row])
    [back] = [f for f in store.unhandled_findings(T0 - 3_600) if f.id == fid]
    return back


async def test_the_same_finding_twice_in_one_run(db: Store) -> None:
    engine, sender = make_engine(db), RecordingSender()
    runner = AlertRunner(engine, sender, clock=lambda: T0)
    fall = stored(db)
    await runner.on_findings([fall])
    await runner.on_findings([fall])
    await runner.run_once(T0)
    [alert] = db.list_alerts(kind="fall")
    assert (alert.data["count"], alert.data["finding_ids"]) == (1, [fall.id])
    assert [c for c, _ in sender.sent] == list(ROLES["station"])
    assert [t.action for t in db.alert_timeline(alert_id=alert.id)][:2] == ["opened", "escalated"]
    assert db.unhandled_findings(T0 - 3_600) == []


async def test_the_same_finding_after_a_restart(db: Store) -> None:
    fall = stored(db)
    first, sender = make_engine(db), RecordingSender()
    await AlertRunner(first, sender, clock=lambda: T0).on_findings([fall])
    await AlertRunner(first, sender).run_once(T0)
    # the hub restarts; the finding comes again (as from a hub that stopped before it
    # recorded having taken it in)
    second = make_engine(db)
    runner = AlertRunner(second, sender, clock=lambda: T0 + 5)
    await runner.recover()
    await runner.on_findings([fall])
    await runner.run_once(T0 + 5)
    [alert] = db.list_alerts(kind="fall")
    assert alert.data["count"] == 1
    assert [c for c, _ in sender.sent] == list(ROLES["station"])
    assert len(db.alert_notifications(alert_id=alert.id)) == 1


async def test_the_same_finding_after_its_alert_was_resolved(db: Store) -> None:
    vitals = stored(db, "vitals", condition="news2")
    first, sender = make_engine(db), RecordingSender()
    await AlertRunner(first, sender, clock=lambda: T0).on_findings([vitals])
    await AlertRunner(first, sender).run_once(T0)
    recovered = stored(db, "vitals_recovered", at=T0 + 30)
    await AlertRunner(first, sender, clock=lambda: T0 + 30).on_findings([recovered])
    [alert] = db.list_alerts(kind="vitals")
    assert alert.state == "resolved"
    # after a restart both findings come again: the resolved alert stands for the first
    second = make_engine(db)
    runner = AlertRunner(second, sender, clock=lambda: T0 + 60)
    await runner.recover()
    await runner.on_findings([vitals, recovered])
    await runner.run_once(T0 + 60)
    assert [a.id for a in db.list_alerts(kind="vitals")] == [alert.id]
    assert second.open_alerts() == []
    assert [c for c, _ in sender.sent] == list(ROLES["station"])
    # a new finding of the same kind is a new event: it is alerted as usual
    again = stored(db, "vitals", at=T0 + 90, condition="news2")
    await runner.on_findings([again])
    assert len(db.list_alerts(kind="vitals")) == 2


async def test_a_finding_stored_twice_opens_one_alert(db: Store) -> None:
    """The same finding under a second id (stored again, as by a hub that re-detected it
    before findings were recognised on replay): the store's key on the trigger holds."""
    first, again = stored(db, "sos"), stored(db, "sos")
    assert first.id != again.id
    engine, sender = make_engine(db), RecordingSender()
    runner = AlertRunner(engine, sender, clock=lambda: T0)
    await runner.on_findings([first])
    await runner.run_once(T0)
    [alert] = engine.open_alerts()
    engine.resolve(alert.id, "nurse-li", "false_alarm", T0 + 10)
    await runner.on_findings([again])
    await runner.run_once(T0 + 20)
    assert [a.id for a in db.list_alerts(kind="sos")] == [alert.id]
    assert [c for c, _ in sender.sent] == list(ROLES["station"])
    assert db.unhandled_findings(T0 - 3_600) == []  # taken in: not fed again at next start


def test_two_conditions_found_at_one_reading_are_two_findings(db: Store) -> None:
    """The vital-sign detector reports NEWS2 and a clinician's limit on the same reading:
    same device, kind and time, yet two findings; the second updates the first's alert."""
    engine = make_engine(db)
    engine.on_finding(stored(db, "vitals", condition="news2"), T0)
    engine.on_finding(stored(db, "vitals", condition="hr_high"), T0)
    [alert] = engine.open_alerts()
    assert alert.count == 2
