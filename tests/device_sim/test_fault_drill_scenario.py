"""The fault drill's vital-sign incidents are alarms by the detector's own rules, for every
length the drill runs: a fault test that loses one must have lost it to the fault.

Found when the drill ran 20 simulated minutes: the fever's readings (heart rate around
112/min, breathing around 22/min) sat on NEWS2 band edges, so the confirmed score stayed at
3 and no alarm was due, with no fault at all. The simulated fever now holds its
tachycardia and tachypnoea inside their bands, and both incidents last 9 minutes: one
reading to spare after the first of a step is set aside as a jump."""

from __future__ import annotations

import json

import pytest

from device_sim.engine import build_run, default_epoch
from device_sim.scenario import load_scenario
from hub.detect.vitals import VitalsDetector


@pytest.mark.parametrize("minutes", [10, 20, 40])
def test_each_vital_sign_incident_is_confirmed_before_it_ends(minutes: int) -> None:
    scenario = load_scenario("fault-drill", days=minutes * 60.0, speed=30.0)
    epoch = default_epoch(scenario, 1.78e9)
    run = build_run(scenario, epoch)
    incidents = [r for r in run.truth if r.alert == "vitals"]
    assert {r.incident for r in incidents} == {"tachycardia", "fever"}
    for r in incidents:
        detector = VitalsDetector()
        found = []
        for m in run.messages:
            if m.topic == f"carehub/v1/devices/{r.resident_id}-w/telemetry":
                found += detector.update(r.resident_id, [json.loads(m.payload)])
        first = min((f.at for f in found if f.kind == "vitals"), default=None)
        assert first is not None, (minutes, r.incident)
        assert r.start <= first <= r.end, (minutes, r.incident, first - epoch)
