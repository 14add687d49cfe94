"""The benchmarks' shared machinery: medians, percentiles, goals, verdicts, exit status and
the results files. Nothing here times anything."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import common
from bench.common import Figure, alternate, exit_status, median, percentile, record, verdict
from bench.goals import MIN_RUNS, MIN_SAMPLES, SPECS, Goal, spec


def test_median_of_runs_resists_one_outlier_where_best_of_and_mean_do_not() -> None:
    runs = [10.0, 11.0, 9.5, 10.5, 95.0]  # one run slowed by the neighbours
    assert median(runs) == 10.5
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_median_refuses_no_runs() -> None:
    with pytest.raises(ValueError, match="no runs"):
        median([])


@pytest.mark.parametrize("q", [50, 90, 99, 99.9])
def test_percentile_matches_numpy(q: float) -> None:
    values = list(np.random.default_rng(3).lognormal(3, 0.5, 1234))
    assert percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_alternate_interleaves_the_sides_round_by_round() -> None:
    calls: list[str] = []
    out = alternate(3, lambda: calls.append("a") or 1.0, lambda: calls.append("b") or 2.0)
    assert calls == ["a", "b"] * 3
    assert out == [[1.0] * 3, [2.0] * 3]


def test_goals_compare_in_their_direction() -> None:
    assert Goal(0.6).met(0.6) and not Goal(0.6).met(0.59)
    assert Goal(50, at_most=True).met(50) and not Goal(50, at_most=True).met(50.1)
    assert spec("fanout_1000_p99_ms").goal_text == "≤ 50 ms"
    assert spec("ingest_vs_paho").goal_text == "≥ 0.60×"


def test_the_goals_earlier_issues_set_are_all_there() -> None:
    goals = {k: (s.goal.bound, s.goal.at_most) for k, s in SPECS.items() if s.goal}
    assert goals == {
        "ingest_vs_paho": (0.6, False),
        "copy_vs_executemany": (5, False),
        "detect_samples_per_s": (500_000, False),
        "detect_vs_loop": (50, False),
        "sos_to_ws_p99_ms": (50, True),
        "fanout_1000_p99_ms": (50, True),
        "hub_rss_mb_10k_devices": (300, True),
        "provision_100k_s": (60, True),
        "mqtt_short_path_vs_paho": (1.2, False),  # issue 12: the short path must pay
        "dispatch_1000x200_s": (2.0, True),  # issue 17: a district's day planned at once
        "kpi_city_year_s": (2.0, True),  # issue 17: a city's year of KPIs on one page
    }


def test_every_key_in_the_committed_results_is_a_known_figure() -> None:
    """Keys named by earlier issues keep their names: each stored one has a spec."""
    stored = json.loads(common.RESULTS.read_text(encoding="utf-8"))
    assert set(stored) <= set(SPECS)
    assert all(isinstance(v, int | float) for v in stored.values())


def test_a_percentile_needs_a_thousand_samples_and_a_median_five_runs() -> None:
    assert verdict(Figure("sos_to_ws_p99_ms", 10.0, MIN_SAMPLES)).ok
    few = verdict(Figure("sos_to_ws_p99_ms", 10.0, 60))
    assert not few.ok and "60 samples" in few.text
    assert not verdict(Figure("detect_vs_loop", 99.0, MIN_RUNS - 1)).ok
    assert verdict(Figure("load_max_devices", 50_000, 1)).ok  # a search is one run


def test_exit_status_is_non_zero_when_one_goal_is_missed() -> None:
    met = [Figure("ingest_vs_paho", 0.8, 5), Figure("copy_vs_executemany", 6.0, 5)]
    assert exit_status(met) == 0
    assert exit_status([*met, Figure("provision_100k_s", 61.0, 5)]) == 1


def test_a_reference_never_fails_but_its_sample_count_still_counts() -> None:
    assert exit_status([Figure("paho_msgs_per_s", 1.0, 5)]) == 0
    assert exit_status([Figure("notify_p99_ms", 1.0, 100)]) == 1


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(KeyError, match=r"bench/goals\.py"):
        verdict(Figure("made_up_key", 1.0, 5))


def test_record_merges_keys_and_notes_runs_and_machine(tmp_path: Path) -> None:
    results, runs = tmp_path / "results.json", tmp_path / "runs.json"
    results.write_text(json.dumps({"alerts_per_s": 1407}))
    record([Figure("detect_vs_loop", 71.26, 5), Figure("detect_samples_per_s", 3.4e7, 5)],
           results=results, runs=runs)  # fmt: skip
    data = json.loads(results.read_text())
    assert data == {"alerts_per_s": 1407, "detect_vs_loop": 71.26, "detect_samples_per_s": 34e6}
    meta = json.loads(runs.read_text())
    assert meta["figures"]["detect_vs_loop"]["n"] == 5
    assert {"cores", "cpu", "ram_gib"} <= set(meta["machine"])
    assert str(tmp_path) not in runs.read_text()


def test_report_records_prints_and_returns_the_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results.json")
    monkeypatch.setattr(common, "RUNS", tmp_path / "runs.json")
    status = common.report("t", [Figure("provision_100k_s", 75.0, 5)], [("note", "x")])
    assert status == 1
    assert json.loads((tmp_path / "results.json").read_text()) == {"provision_100k_s": 75.0}


def test_the_examples_in_the_docstrings_hold() -> None:
    import doctest

    from bench import goals

    for module in (goals, common):
        assert doctest.testmod(module).failed == 0, module.__name__
