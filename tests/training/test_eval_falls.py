"""``carehub eval falls`` on tiny synthetic data sets in both layouts, and on real data."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.hub.detect.test_falls import fall_signal, hard_sit, walking
from training.cli import eval_app
from training.datasets import DATA_ENV, DatasetError, load

REQUIRED = {
    "n_recordings", "n_falls", "sensitivity", "specificity", "false_alarms_per_hour",
    "latency_median_s", "latency_p90_s",
}  # fmt: skip


def _signals(i: int, fall: bool, hz: float) -> np.ndarray:
    if fall:
        return fall_signal(hz, seed=i, tilt=30.0 * i)
    return walking(hz, 15, seed=i) if i % 2 else hard_sit(hz, seed=i)


def write_counts_layout(root: Path, subjects: int = 4) -> None:
    """SisFall-like: int16 counts at 200 Hz, waist, young/elderly groups."""
    root.mkdir(parents=True)
    rows = []
    for s in range(subjects):
        subject = f"S{s:02d}"
        arrays = {}
        for i in range(4):
            fall = i < 2
            key = f"{'F' if fall else 'D'}0{i}_{subject}"
            g = _signals(s * 4 + i, fall, 200.0)
            arrays[key] = np.round(g * 8192 / 32).astype(np.int16)
            group = "elderly" if s == 0 else "young"
            rows.append(
                [key, subject, group, key[:3], int(fall), len(g), len(g) / 200, f"{subject}.npz"]
            )
        np.savez(root / f"{subject}.npz", **arrays)
    with (root / "manifest.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["key", "subject", "group", "activity", "is_fall", "n_samples", "duration_s", "file"]
        )
        w.writerows(rows)


def write_timed_layout(root: Path, subjects: int = 4) -> None:
    """UMAFall-like: [t_ms, x, y, z] with jittered ~20 Hz timestamps, ages, positions (trunk
    positions: the synthetic signals are trunk signals)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for s in range(subjects):
        subject = f"Subject_{s:02d}"
        arrays = {}
        for i in range(4):
            fall = i < 2
            for position in ("WAIST", "CHEST"):
                key = f"{'Fall' if fall else 'ADL'}_{i}_{position}"
                g = _signals(s * 4 + i, fall, 100.0)[::5]  # 20 Hz
                t_ms = np.arange(len(g)) * 50.0 + rng.uniform(-8, 8, len(g))
                t_ms[0] = 0.0
                arrays[key] = np.column_stack([t_ms, g]).astype(np.float32)
                age = 70 if s == 0 else 25
                rows.append(
                    [
                        key,
                        subject,
                        age,
                        key.split("_", maxsplit=1)[0],
                        int(fall),
                        position,
                        len(g),
                        0,
                        20.0,
                        f"{subject}.npz",
                        "extra",
                    ]
                )
        np.savez(root / f"{subject}.npz", **arrays)
    with (root / "manifest.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "key",
                "subject",
                "age",
                "activity",
                "is_fall",
                "position",
                "n_samples",
                "duration_s",
                "rate_hz",
                "file",
                "notes",
            ]
        )
        w.writerows(rows)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("falls")
    write_counts_layout(root / "counts")
    write_timed_layout(root / "timed")
    return root


def run(*args: str) -> dict:
    result = CliRunner().invoke(eval_app, ["falls", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_loader_reads_both_layouts(data: Path) -> None:
    counts = load(data / "counts", 50.0)
    assert len(counts) == 16 and {r.position for r in counts} == {"WAIST"}
    assert counts[0].xyz_g.shape[1] == 3 and counts[0].hz == 50.0
    assert np.median(np.linalg.norm(counts[0].xyz_g, axis=1)) == pytest.approx(1.0, abs=0.05)
    timed = load(data / "timed", 25.0, position="waist")
    assert len(timed) == 16 and {r.group for r in timed} == {"older", "younger"}
    assert abs(timed[0].duration_s - 16.5) < 1.0


@pytest.mark.parametrize("sub", ["counts", "timed"])
def test_json_has_required_keys_and_detects_synthetic_falls(data: Path, sub: str) -> None:
    out = run("--data", str(data / sub), "--rate", "25", "--json")
    assert set(out) >= REQUIRED
    assert out["n_recordings"] == (16 if sub == "counts" else 32)
    assert out["sensitivity"] == 1.0 and out["specificity"] == 1.0
    assert 0 < out["latency_p90_s"] <= 2.0
    assert set(out["baselines"]) == {"peak_threshold", "c8_horizontal_std"}
    for base in out["baselines"].values():
        assert set(base) >= REQUIRED
    groups = out["groups"]
    assert set(groups) == ({"elderly", "young"} if sub == "counts" else {"older", "younger"})
    assert all(set(g) >= REQUIRED for g in groups.values())


def test_position_filter_and_cross_validation(data: Path) -> None:
    out = run(
        "--data", str(data / "timed"), "--position", "WAIST", "--rate", "20", "--cv", "2", "--json"
    )
    assert out["n_recordings"] == 16 and out["n_falls"] == 8
    assert out["protocol"]["cv_folds"] == 2
    assert len(out["protocol"]["detector_threshold"]) == 2
    assert isinstance(out["baselines"]["peak_threshold"]["threshold_g"], list)


def test_table_output_and_both_data_sets_at_once(data: Path) -> None:
    result = CliRunner().invoke(eval_app, ["falls", "--data", str(data), "--rate", "50"])
    assert result.exit_code == 0, result.output
    assert "sensitivity" in result.stdout and "c8_horizontal_std" in result.stdout


@pytest.mark.parametrize(
    "args", [["--data", "no/such/dir"], ["--rate", "5"], ["--cv", "1"], ["--position", "ANKLE"]]
)
def test_bad_arguments_are_refused_clearly(data: Path, args: list[str]) -> None:
    full = (
        ["falls", "--data", str(data / "counts"), *args]
        if args[0] != "--data"
        else ["falls", *args]
    )
    result = CliRunner().invoke(eval_app, full)
    assert result.exit_code == 2


def _real_data() -> Path:
    root = Path(os.environ.get(DATA_ENV, "../shared/data")) / "sisfall"
    if not (root / "manifest.csv").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DATA_ENV} does not point at the fall data (needed in CI)")
        pytest.skip(f"fall data not found; set {DATA_ENV}")
    return root


@pytest.mark.slow
def test_shipped_detector_on_real_sisfall_subjects(tmp_path: Path) -> None:
    src = _real_data()
    keep = {"SA01", "SA02", "SE06"}
    with (src / "manifest.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["subject"] in keep]
    sub = tmp_path / "sisfall"
    sub.mkdir()
    with (sub / "manifest.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for s in keep:
        (sub / f"{s}.npz").symlink_to((src / f"{s}.npz").resolve())
    out = run("--data", str(sub), "--rate", "50", "--json")
    assert out["n_recordings"] == len(rows)
    assert out["sensitivity"] >= 0.9
    assert out["specificity"] >= 0.97
    assert out["sensitivity"] > out["baselines"]["peak_threshold"]["sensitivity"] - 0.05


def test_cross_data_set_trains_on_one_and_tests_on_the_other(data: Path) -> None:
    out = run(
        "--train-on", str(data / "counts"), "--data", str(data / "timed"), "--rate", "25", "--json"
    )
    assert set(out) >= REQUIRED
    proto = out["protocol"]
    assert proto["mode"].startswith("cross-data-set")
    assert proto["trained_on"] == ["counts/waist"]
    assert set(proto["model_thresholds"]) == {"trunk"}
    assert proto["recordings_by_model"] == {"trunk": 32}
    assert out["data"]["train_on"] == [str(data / "counts")]
    # Sixteen synthetic recordings make a small model; it still finds most other falls.
    assert out["sensitivity"] >= 0.75 and out["specificity"] >= 0.75
    # Only the model of the position asked for is trained.
    waist = run(
        "--train-on", str(data / "counts"), "--data", str(data / "timed"), "--position", "chest",
        "--rate", "25", "--json",
    )  # fmt: skip
    assert waist["n_recordings"] == 16 and set(waist["protocol"]["model_thresholds"]) == {"trunk"}


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--cv", "2"], "two protocols"),
        (["--train-on", ","], "at least one"),
        (["--train-on", "no/such/dir"], "cannot read"),
    ],
)
def test_cross_data_set_refusals(data: Path, extra: list[str], says: str) -> None:
    args = ["falls", "--data", str(data / "timed"), *extra]
    if extra[0] == "--cv":
        args += ["--train-on", str(data / "counts")]
    result = CliRunner().invoke(eval_app, args)
    assert result.exit_code == 2
    assert says in result.output


def test_training_and_test_sets_sharing_subjects_are_refused(data: Path) -> None:
    result = CliRunner().invoke(
        eval_app, ["falls", "--train-on", str(data / "counts"), "--data", str(data / "counts")]
    )
    assert result.exit_code == 2
    assert "share subjects" in result.output


def test_counts_scale_comes_from_the_manifest_or_is_refused(tmp_path: Path) -> None:
    write_counts_layout(tmp_path / "wrong", subjects=1)
    manifest = tmp_path / "wrong" / "manifest.csv"
    with manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    # The same counts said to be FallAllD-like (0.000244 g per count): gravity reads 0.06 g.
    with manifest.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*rows[0], "g_per_count", "rate_hz", "position"])
        w.writeheader()
        w.writerows({**r, "g_per_count": "0.000244", "rate_hz": "200", "position": "WRIST"}
                    for r in rows)  # fmt: skip
    with pytest.raises(DatasetError, match="g_per_count"):
        load(tmp_path / "wrong", 50.0)
    with manifest.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[*rows[0], "g_per_count", "position"])
        w.writeheader()
        w.writerows({**r, "g_per_count": str(32 / 8192), "position": "WRIST"} for r in rows)
    recs = load(tmp_path / "wrong", 50.0)
    assert {r.position for r in recs} == {"WRIST"}
    assert np.median(np.linalg.norm(recs[2].xyz_g, axis=1)) == pytest.approx(1.0, abs=0.05)
