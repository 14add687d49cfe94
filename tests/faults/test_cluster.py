"""The cluster mode under failure (docs/architecture.md, "Scaling out").

The ``fault-drill`` scenario (an SOS or a fall every 90 simulated seconds, a tachycardia
and a fever carried by telemetry) goes through two bridges and three workers
(:mod:`tests.faults.cluster_rig`); one worker is SIGKILLed; the worker holding the
resident of the next scripted alarm stops itself just before committing it and stays
stopped past its lease, then resumes; one joins late. Every
scripted alarm must be alerted (late by at most the lease TTL + 5 s), none opened twice,
no finding stored twice, no false alert. The control run switches fencing off and must fail
the same check: without the epoch in each commit, the resumed worker stores what its
successor stored already.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.faults.cluster_rig import LEASE_TTL_S, ClusterDrill
from tests.fixtures.brokers import _mosquitto_binary
from tests.fixtures.nats import nats_binary

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.broker, pytest.mark.postgres]

SPEED = float(os.environ.get("CAREHUB_FAULT_SPEED") or 20)
MINUTES = 9.0


def run_drill(tmp: Path, db_url: str, *, fencing: bool) -> dict[str, Any]:
    with ClusterDrill(
        tmp, db_url, _mosquitto_binary(), nats_binary(), speed=SPEED, minutes=MINUTES,
        fencing=fencing,
    ) as drill:  # fmt: skip
        drill.start_simulator()
        injected = 0
        time.sleep(max(0.0, drill.wall_at(0.25) - time.time()))
        drill.kill("w1")
        injected += 1
        time.sleep(max(0.0, drill.wall_at(0.4) - time.time()))
        drill.wait_spread({"w2", "w3"}, timeout=30.0)  # the killed worker's share taken over
        # pause the worker that will take in the next scripted alarm
        victim, due_in = drill.next_alarm_owner(margin_s=1.0)
        paused = drill.pause_at_next_alarm(victim, hold_s=LEASE_TTL_S + 3.0, within_s=due_in + 20.0)
        assert paused, f"{victim} never paused before an alarm\n" + drill.node_log(victim)[-2000:]
        injected += 1
        time.sleep(max(0.0, drill.wall_at(0.65) - time.time()))
        drill.start_node("worker", "w4")
        injected += 1
        drill.wait_simulator(settle_s=LEASE_TTL_S + 4.0)
        drill.wait_spread({"w2", "w3", "w4"}, timeout=30.0)
        row = drill.verdict("cluster" if fencing else "cluster, fencing off", injected)
        line = json.dumps(row)
        print(line)
        if target := os.environ.get("CAREHUB_FAULT_REPORT"):
            with Path(target).open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        return row


def failed(row: dict[str, Any]) -> bool:
    return bool(
        row["lost"] or row["duplicated"] or row["findings_duplicated"] or row["false_alerts"]
        or row["stale_commits"]
    )  # fmt: skip


def test_cluster_loses_and_duplicates_no_alarm(tmp_path: Path, new_pg_database: Any) -> None:
    row = run_drill(tmp_path, new_pg_database(), fencing=True)
    assert not failed(row), row
    assert row["recovered"], row


def test_control_without_fencing_duplicates(tmp_path: Path, new_pg_database: Any) -> None:
    row = run_drill(tmp_path, new_pg_database(), fencing=False)
    assert failed(row), f"the drill could not see what fencing prevents: {row}"
