"""A hypothesis state machine over the engine and a real store: random findings, clears,
acknowledgements, resolutions and clock jumps never break the invariants.

- a latched alert is never resolved except by a person;
- at most one unresolved alert per (subject, kind), in memory and in the store;
- no escalation round fires after an alert was acknowledged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as s
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from alerts import state as st
from alerts.engine import AlertEngine
from hub.store.sqlite import SqliteStore

from .conftest import T0, finding, make_engine, seed

KINDS = ["fall", "sos", "smoke", "vitals", "inactivity", "device_offline", "long_lie"]
CLEARS = ["fall_recovered", "smoke_cleared", "vitals_recovered", "activity_resumed",
          "device_online"]  # fmt: skip
RESIDENTS = [("r-1", "w-1"), ("r-2", "w-2"), ("r-1", "door-1")]


class AlertMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.store = SqliteStore(Path(self.tmp.name) / "m.db")
        self.store.migrate()
        seed(self.store)
        self.engine: AlertEngine = make_engine(self.store)
        self.now = T0

    def teardown(self) -> None:
        self.store.close()
        self.tmp.cleanup()

    @rule(kind=s.sampled_from(KINDS), who=s.sampled_from(RESIDENTS),
          priority=s.sampled_from(["high", "medium", "low"]))  # fmt: skip
    def find(self, kind: str, who: tuple[str, str], priority: str) -> None:
        f = finding(kind, priority, device=who[1], resident=who[0], at=self.now)
        self.engine.on_finding(f, self.now)

    @rule(kind=s.sampled_from(CLEARS), who=s.sampled_from(RESIDENTS))
    def clear(self, kind: str, who: tuple[str, str]) -> None:
        f = finding(kind, "low", device=who[1], resident=who[0], at=self.now)
        self.engine.on_finding(f, self.now)

    @rule(pick=s.integers(0, 20))
    def acknowledge(self, pick: int) -> None:
        opened = [a for a in self.engine.open_alerts() if a.state == "open"]
        if opened:
            self.engine.acknowledge(opened[pick % len(opened)].id, "nurse-li", self.now)

    @rule(pick=s.integers(0, 20), outcome=s.sampled_from(st.PERSON_OUTCOMES))
    def resolve(self, pick: int, outcome: str) -> None:
        alive = self.engine.open_alerts()
        if alive:
            self.engine.resolve(alive[pick % len(alive)].id, "nurse-wu", outcome, self.now)

    @rule(seconds=s.sampled_from([1.0, 30.0, 59.0, 61.0, 180.0, 700.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds
        self.engine.tick(self.now)

    @invariant()
    def latched_alerts_need_a_person(self) -> None:
        for row in self.store.list_alerts(states=["resolved"], limit=10_000):
            a = st.Alert.from_dict(row.data)
            if a.latched:
                assert st.is_person(a.resolved_by or ""), a
                assert a.outcome in st.PERSON_OUTCOMES

    @invariant()
    def one_open_alert_per_subject_and_kind(self) -> None:
        keys = [r.key for r in self.store.unresolved_alerts()]
        assert len(keys) == len(set(keys))
        assert sorted(keys) == sorted(a.key for a in self.engine.open_alerts())

    @invariant()
    def no_escalation_after_acknowledge(self) -> None:
        for row in self.store.list_alerts(limit=10_000):
            a = st.Alert.from_dict(row.data)
            if a.acked_at is None:
                continue
            late = [e for e in self.store.alert_timeline(alert_id=a.id)
                    if e.action == "escalated" and e.at > a.acked_at]  # fmt: skip
            assert late == [], a
            assert a.next_deadline is None


AlertMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
TestAlertMachine = AlertMachine.TestCase
