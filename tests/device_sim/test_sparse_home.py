"""Homes with the sensors of real installations: contacts (named or not), a bathroom motion
sensor that fires once, no bed or toilet sensor; evenings out coming home late; weekends
away (``device_sim/scenarios/sparse-home.yaml``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from device_sim import model as m
from device_sim.engine import build_run
from device_sim.scenario import load_scenario
from hub.contract.models import EVENT_ADAPTER
from hub.errors import ConfigError

EPOCH = 1_772_380_800.0  # Monday 2026-03-02 00:00 +08:00


@pytest.fixture(scope="module")
def week() -> list[dict[str, object]]:
    """A week of the first sparse home: every event, as sent, with its device."""
    sc = load_scenario("sparse-home", days="7d", residents={"count": 4})
    run = build_run(sc, EPOCH)
    out = []
    for msg in run.messages:
        if msg.topic.endswith("/event") and "sp-r-0001-" in msg.topic:
            EVENT_ADAPTER.validate_json(msg.payload)  # the contract holds
            out.append({"device": msg.topic.split("/")[-2], **json.loads(msg.payload)})
    return out


def test_a_sparse_home_has_contacts_and_one_bathroom_sensor(week: list[dict[str, object]]) -> None:
    devices = Counter(str(e["device"]).removeprefix("sp-r-0001-") for e in week)
    assert set(devices) == {"door", "bedroom-door", "living-door", "cupboard", "fridge",
                            "kettle", "wardrobe", "m-bathroom"}  # fmt: skip
    assert sum(devices.values()) / 7 < 100  # a few dozen events a day
    names = {(e["device"], e.get("door")) for e in week if e["type"] == "door"}
    assert ("sp-r-0001-bedroom-door", None) in names  # the unnamed interior door
    assert ("sp-r-0001-living-door", "living") in names
    assert ("sp-r-0001-door", "front") in names
    # the bathroom sensor fires once as someone comes in, never again while they stay
    bath = sorted(float(e["ts"]) for e in week if e["device"] == "sp-r-0001-m-bathroom")  # type: ignore[arg-type]
    assert len(bath) >= 7 * 3
    assert min(np.diff(bath)) > 60


def test_late_returns_go_straight_to_bed() -> None:
    rng = np.random.default_rng(5)
    p = m.Profile.draw("r", rng)
    plans = np.stack([m.day_plan(p, rng, late_return_p=1.0) for _ in range(10)])
    for plan in plans:
        out = np.flatnonzero(plan == m.OUT)
        back = out.max() + 1
        assert 22 * 60 < back <= 23.5 * 60 + 1  # home after 22:00
        assert set(plan[back + 10 :]) == {m.BED}  # then the bathroom, then bed
    # asked for nothing, the plans (and the random stream) are what they always were
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(m.day_plan(p, a), m.day_plan(p, b, late_return_p=0.0))
    assert a.random() == b.random()


def test_a_weekend_away_leaves_and_comes_back_through_the_front_door() -> None:
    sc = load_scenario("sparse-home", days="8d")
    run = build_run(sc, EPOCH)
    away = next(r for r in run.truth if r.incident == "away" and r.resident_id == "sp-r-0001")
    assert away.alert is None  # nothing to alert: every alert meanwhile is false
    assert (away.start, away.end) == (
        EPOCH + 5 * 86_400 + 9.5 * 3600,
        EPOCH + 6 * 86_400 + 17.5 * 3600,
    )
    mine = [x for x in run.messages if "/sp-r-0001-" in x.topic and x.topic.endswith("/event")]
    sent = [json.loads(x.payload) for x in mine]
    inside = [e for e in sent if away.start + 60 < e["ts"] < away.end - 60]
    assert inside == []  # nothing at home while away
    front = [e["ts"] for e in sent if e.get("door") == "front" and e["open"]]
    assert any(abs(t - away.start) < 60 for t in front)
    assert any(abs(t - away.end) < 60 for t in front)


def test_contacts_need_distinct_ids(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("name: x\ndevices:\n  gateway:\n    contacts:\n"
                    "      - {id: a, room: kitchen}\n      - {id: a, room: living}\n")  # fmt: skip
    with pytest.raises(ConfigError, match="distinct"):
        load_scenario(path)
