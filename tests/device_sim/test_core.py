"""The simulator's pure core: determinism, routines, incident timing, contract-valid
messages, truth files, scenario errors with line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from device_sim import model as m
from device_sim.engine import build_run
from device_sim.falls import FallLibrary
from device_sim.incidents import read_truth, write_truth
from device_sim.scenario import load_scenario
from hub.contract.models import EVENT_ADAPTER, Status, Telemetry
from hub.errors import ConfigError

EPOCH = 1_767_225_600.0  # 2026-01-01 08:00 in UTC+8


def test_same_seed_same_messages_other_seed_other_messages() -> None:
    sc = load_scenario("ci-compressed")
    a, b = build_run(sc, EPOCH), build_run(sc, EPOCH)
    assert [(x.at, x.topic, x.payload) for x in a.messages] == [
        (x.at, x.topic, x.payload) for x in b.messages
    ]
    c = build_run(load_scenario("ci-compressed", seed=99), EPOCH)
    assert [x.payload for x in c.messages] != [x.payload for x in a.messages]


def test_routine_sleeps_at_night_and_eats_by_day() -> None:
    rng = np.random.default_rng(3)
    p = m.Profile.draw("r", rng)
    plans = np.stack([m.day_plan(p, rng) for _ in range(20)])
    assert (plans[:, 3 * 60] == m.BED).mean() > 0.8  # 03:00
    assert (plans[:, 15 * 60] == m.BED).mean() == 0.0  # 15:00
    kitchen_minutes = (plans == m.KITCHEN).sum(axis=1)
    assert kitchen_minutes.min() >= 60  # three meals


def test_every_regular_message_follows_the_contract(tmp_path: Path) -> None:
    run = build_run(load_scenario("ci-compressed"), EPOCH, FallLibrary(tmp_path))  # synthetic
    bad_ids = {r.device_id for r in run.truth if r.alert is None}
    bad_times = {r.start for r in run.truth if r.alert is None}
    seqs: dict[str, int] = {}
    for msg in run.messages:
        kind = msg.topic.rsplit("/", 1)[1]
        dev = msg.topic.split("/")[-2]
        if dev in bad_ids and any(0 <= msg.at - t < 5 for t in bad_times):
            continue
        body = json.loads(msg.payload)
        if kind == "status":
            Status.model_validate_json(msg.payload)
        elif kind == "event":
            EVENT_ADAPTER.validate_json(msg.payload)
        else:
            Telemetry.model_validate_json(msg.payload)
        if "seq" in body:
            assert body["seq"] > seqs.get(dev, 0), msg
            seqs[dev] = body["seq"]


def test_incidents_happen_when_scripted() -> None:
    run = build_run(load_scenario("ci-compressed"), EPOCH)
    fall = next(r for r in run.truth if r.incident == "fall")
    assert fall.start == EPOCH + 20 * 60
    events = [json.loads(x.payload) for x in run.messages if x.topic.endswith("-w/event")]
    assert any(e["type"] == "fall" and abs(e["ts"] - fall.start) < 5 for e in events)
    sos = [r for r in run.truth if r.incident == "sos"]
    sent = [
        json.loads(x.payload)["ts"]
        for x in run.messages
        if x.topic.endswith("/event") and b'"type":"sos"' in x.payload
    ]
    assert sorted(sent) == sorted(r.start for r in sos)
    smoke = [json.loads(x.payload) for x in run.messages if x.topic.endswith("-smoke/event")]
    assert [s["alarm"] for s in smoke] == [True, False, True, False]


def test_truth_file_round_trip(tmp_path: Path) -> None:
    run = build_run(load_scenario("ci-compressed"), EPOCH)
    path = tmp_path / "t.jsonl"
    write_truth(path, run.info, run.truth)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["record"] == "run" and lines[0]["residents"] == list(run.info.residents)
    assert {x["record"] for x in lines[1:]} == {"incident"}
    info, records = read_truth(path)
    assert info == run.info and records == sorted(run.truth, key=lambda r: r.start)
    path.write_text(path.read_text() + "{oops\n")
    with pytest.raises(ValueError, match=r"t\.jsonl:\d+"):
        read_truth(path)


def test_scenario_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nincidents:\n  - {kind: fall, at: 1h}\n  - {kind: flood, at: 2h}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:4: incidents\.1\.kind"):
        load_scenario(path)
    path.write_text("name: x\nincidents: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: not valid YAML"):
        load_scenario(path)


@pytest.mark.parametrize("name", ["normal-week", "incident-mix", "ci-compressed", "sparse-home"])
def test_library_scenarios_load(name: str) -> None:
    assert load_scenario(name).name == name
