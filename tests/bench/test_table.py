"""``python -m bench.table``: the table of every stored figure beside its goal, its exit
status, and the README section it rewrites."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import table
from bench.common import Figure, record


def _store(tmp_path: Path, figures: list[Figure]) -> tuple[Path, Path]:
    results, runs = tmp_path / "results.json", tmp_path / "runs.json"
    record(figures, results=results, runs=runs)
    return results, runs


def test_rows_follow_the_goal_list_and_carry_their_run_counts(tmp_path: Path) -> None:
    paths = _store(tmp_path, [Figure("provision_100k_s", 9.0, 5), Figure("ingest_vs_paho", 0.8, 5)])
    rows, machine = table.load(*paths)
    assert [r.figure.key for r in rows] == ["ingest_vs_paho", "provision_100k_s"]
    assert all(r.n == 5 for r in rows)
    assert machine["cores"] >= 1
    assert table.failures(rows) == []


def test_a_missed_goal_or_a_thin_percentile_fails_the_table(tmp_path: Path) -> None:
    paths = _store(tmp_path, [Figure("hub_rss_mb_10k_devices", 320.0, 5),
                              Figure("sos_to_ws_p99_ms", 20.0, 60),
                              Figure("notify_p99_ms", 900.0, 1000)])  # fmt: skip
    rows, _ = table.load(*paths)
    assert table.failures(rows) == [
        "sos_to_ws_p99_ms: no: 60 samples < 1000",
        "hub_rss_mb_10k_devices: MISSED",
    ]


def test_figures_older_than_the_run_fail_when_they_have_a_goal(tmp_path: Path) -> None:
    paths = _store(tmp_path, [Figure("ingest_vs_paho", 0.8, 5), Figure("paho_msgs_per_s", 9, 5)])
    rows, _ = table.load(*paths)
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert table.failures(rows, since=later) == ["ingest_vs_paho: not measured in this run"]
    assert table.stale(rows, later) == {"ingest_vs_paho", "paho_msgs_per_s"}


def test_figures_without_a_note_of_their_runs_are_not_vouched_for(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"detect_vs_loop": 62.9, "alerts_per_s": 1407}))
    rows, machine = table.load(results, tmp_path / "runs.json")
    assert machine == {}
    assert table.failures(rows) == ["detect_vs_loop: runs.json does not say how it was measured"]


def test_markdown_names_the_machine_and_rewrites_only_the_readme_section(tmp_path: Path) -> None:
    paths = _store(tmp_path, [Figure("fanout_1000_p99_ms", 38.04, 50_000)])
    rows, machine = table.load(*paths)
    text = table.markdown(rows, machine)
    assert "| `fanout_1000_p99_ms` | 38.0 ms | ≤ 50 ms | met | 50,000 samples |" in text
    assert f"{machine['cores']} cores" in text
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\nbefore\n{table.START}\nold\n{table.END}\nafter\n")
    table.rewrite(readme, text)
    body = readme.read_text()
    assert body.startswith("# x\nbefore\n") and body.endswith(f"{table.END}\nafter\n")
    assert "old" not in body and "fanout_1000_p99_ms" in body


def test_a_readme_without_the_markers_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    with pytest.raises(SystemExit, match="bench:start"):
        table.rewrite(readme, "t")


def test_figures_from_before_runs_were_noted_are_marked(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"load_max_devices": 50_000}))
    text = table.markdown(*table.load(results, tmp_path / "runs.json"))
    assert "| `load_max_devices` | 50,000 | — | ? | ? |" in text
    assert "marked ? come from an earlier run" in text


def test_figures_measured_on_another_processor_are_named(tmp_path: Path) -> None:
    results, runs = _store(tmp_path, [Figure("provision_100k_s", 9.0, 5),
                                      Figure("detect_vs_loop", 60.0, 5)])  # fmt: skip
    meta = json.loads(runs.read_text(encoding="utf-8"))
    here = meta["machine"]["cpu"]
    assert meta["figures"]["detect_vs_loop"]["cpu"] == here
    meta["figures"]["detect_vs_loop"]["cpu"] = "Elsewhere 9000"
    runs.write_text(json.dumps(meta), encoding="utf-8")
    text = table.markdown(*table.load(results, runs))
    assert f"({here})" in text
    assert "Measured on another machine (Elsewhere 9000): `detect_vs_loop`." in text
    assert "`provision_100k_s`." not in text
