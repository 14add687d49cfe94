"""No alarm lost, whatever fails (docs/architecture.md, "Delivery guarantees").

Each test runs the ``fault-drill`` scenario through its own Mosquitto (persistence on), its
own PostgreSQL cluster and the hub as ``carehub serve`` in a process of its own
(:mod:`tests.faults.rig`), injects one kind of fault, and checks against the simulator's
ground truth: every scripted alarm alerted exactly once, no false alert, every QoS 1
reading stored, and the hub healthy again by itself.

``make faults`` runs longer versions: ``CAREHUB_FAULT_SCALE`` multiplies the number of
kills and the length of the runs, ``CAREHUB_FAULT_SPEED`` sets the time acceleration
(``1`` is real time) and ``CAREHUB_FAULT_REPORT`` names a file that collects the table.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol

import psycopg
import pytest

from tests.faults.rig import Drill, Outcome, report
from tests.fixtures.brokers import _mosquitto_binary
from tests.fixtures.pg_cluster import PgCluster

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.broker]

SCALE = float(os.environ.get("CAREHUB_FAULT_SCALE", "1"))
SPEED = os.environ.get("CAREHUB_FAULT_SPEED")
MIN_MINUTES = 8.5
"""The drill's tachycardia and fever are over (and confirmable) by then."""


def speed(default: float) -> float:
    return float(SPEED) if SPEED else default


class DrillFactory(Protocol):
    def __call__(self, *, speed: float, minutes: float) -> Drill: ...


@pytest.fixture
def drill_factory(pg_cluster: PgCluster, tmp_path: Path) -> DrillFactory:
    binary = _mosquitto_binary()

    def make(*, speed: float, minutes: float) -> Drill:
        return Drill(tmp_path, pg_cluster, binary, speed=speed, minutes=minutes)

    return make


def check(outcome: Outcome) -> None:
    print(report(outcome))
    assert outcome.alarms_lost == [], "\n".join(outcome.alarms_lost)
    assert outcome.alarms_duplicated == 0, outcome
    assert outcome.false_alerts == [], outcome
    assert outcome.telemetry_lost == 0, outcome
    assert outcome.recovered, outcome


def test_hub_killed_as_each_alarm_is_committed(drill_factory: DrillFactory) -> None:
    """(a) SIGKILL the hub the moment an SOS or fall row is committed, at least 10 times."""
    kills_wanted = int(10 * SCALE)
    s = speed(40.0)
    # an alarm every 1.5 simulated minutes, and a restart takes a few seconds (imports,
    # connecting): room for one kill per 6 wall seconds at least
    per_kill = max(2.0, 6.0 * s / 60.0)
    with drill_factory(speed=s, minutes=per_kill * kills_wanted + 4.0) as drill:
        drill.start_simulator()
        kills = 0
        with psycopg.connect(drill.cluster.url, autocommit=True) as conn:
            seen = drill.alarm_rows(conn)
            while drill.simulating() and kills < kills_wanted:
                now = drill.alarm_rows(conn)
                if now > seen:  # a new alarm is committed: kill before anything else happens
                    drill.kill_hub()
                    kills += 1
                    drill.start_hub()
                    drill.wait_ready()
                    seen = drill.alarm_rows(conn)
                time.sleep(0.002)
        drill.wait_simulator()
        outcome = drill.outcome("hub SIGKILLed at each alarm commit", kills, 600.0)
    check(outcome)
    assert kills >= kills_wanted, f"only {kills} kills: too few alarms in the run"


def test_broker_killed_and_restarted_mid_stream(drill_factory: DrillFactory) -> None:
    """(b) SIGKILL the broker mid-stream, start it again on the same port and files."""
    rounds = max(1, int(SCALE))
    s = speed(30.0)
    with drill_factory(speed=s, minutes=10 * rounds) as drill:
        drill.start_simulator()
        for i in range(rounds):
            time.sleep(max(0.0, drill.wall_at((i + 0.5) / rounds) - time.time()))
            drill.broker.kill()
            time.sleep(2.0)
            drill.broker.start()
        drill.wait_simulator(settle_s=6.0)
        outcome = drill.outcome("broker SIGKILLed and restarted", rounds, 600.0)
    check(outcome)


def test_database_stopped_for_a_minute(drill_factory: DrillFactory) -> None:
    """(c) Stop PostgreSQL for 60 s while devices keep publishing, then start it again."""
    outage_s = 60.0 * max(1.0, SCALE)
    s = speed(6.0)
    minutes = max(MIN_MINUTES, (outage_s + 28.0) * s / 60.0)
    with drill_factory(speed=s, minutes=minutes) as drill:
        drill.start_simulator()
        time.sleep(max(0.0, drill.wall_at(12.0 * s / 60.0 / minutes) - time.time()))
        drill.cluster.stop()
        time.sleep(outage_s)
        drill.cluster.start()
        drill.wait_simulator(settle_s=8.0)
        outcome = drill.outcome(f"PostgreSQL stopped {outage_s:.0f} s", 1, outage_s * s + 600.0)
    check(outcome)


def test_hub_killed_during_an_outage_and_restarted_before_it_ends(
    drill_factory: DrillFactory,
) -> None:
    """(d) Stop PostgreSQL; SIGKILL the hub meanwhile and start it again while the database
    is still down; it must wait, then come up by itself."""
    outage_s = 20.0 * max(1.0, SCALE)
    s = speed(10.0)
    minutes = max(MIN_MINUTES, (outage_s + 32.0) * s / 60.0)
    with drill_factory(speed=s, minutes=minutes) as drill:
        drill.start_simulator()
        time.sleep(max(0.0, drill.wall_at(12.0 * s / 60.0 / minutes) - time.time()))
        drill.cluster.stop()
        time.sleep(outage_s / 2)
        drill.kill_hub()
        drill.start_hub()
        time.sleep(outage_s / 2)
        assert not drill.healthy()  # no database: the hub waits and says so
        drill.cluster.start()
        drill.wait_ready()
        drill.wait_simulator(settle_s=8.0)
        outcome = drill.outcome("hub SIGKILLed during a database outage", 1, outage_s * s + 600.0)
    check(outcome)
