"""Fall detector: synthetic falls and non-falls, streaming invariance, hostile input, follow-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.detect import resample
from hub.detect.fall_features import FEATURE_NAMES
from hub.detect.fall_model import BoostedTrees
from hub.detect.falls import FallDetector, PositionModel, load_shipped_params
from hub.detect.findings import Finding
from hub.detect.vendor import finding_from_event
from tests.helpers.imports import top_level_imports

T0 = 1_700_000_000.0
HZ = 50.0


def _rotate(v: np.ndarray, axis: int, deg: float) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    i, j = [k for k in range(3) if k != axis]
    out = v.copy()
    out[..., i] = c * v[..., i] - s * v[..., j]
    out[..., j] = s * v[..., i] + c * v[..., j]
    return out


def fall_signal(
    hz: float = HZ, seed: int = 0, lie_s: float = 10.0, tilt: float = 0.0
) -> np.ndarray:
    """Quiet standing, free fall, a 3.5 g impact, 90° turn, lying still (sensor ``tilt``ed)."""
    rng = np.random.default_rng(seed)
    n_stand, n_fall = int(6 * hz), int(0.4 * hz)
    stand = np.tile([0.0, -1.0, 0.0], (n_stand, 1))
    drop = np.tile([0.0, -0.25, 0.0], (n_fall, 1))
    impact = np.array([[2.0, -2.5, 1.0], [1.5, -2.0, 0.5]])
    impact = np.repeat(impact, max(1, int(hz / 20)), axis=0)
    lie = np.tile([0.0, 0.0, 1.0], (int(lie_s * hz), 1))
    x = np.vstack([stand, drop, impact, lie])
    x = x + rng.normal(0, 0.01, x.shape)
    return _rotate(x, 0, tilt)


def walking(hz: float = HZ, seconds: float = 30.0, seed: int = 1) -> np.ndarray:
    """Upright walking at 2 steps/s: ±0.35 g vertical, small sway, no turn."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * hz)) / hz
    x = np.column_stack(
        [
            0.1 * np.sin(2 * np.pi * t),
            -1.0 - 0.35 * np.sin(4 * np.pi * t),
            0.05 * np.cos(4 * np.pi * t),
        ]
    )
    return x + rng.normal(0, 0.02, x.shape)


def hard_sit(hz: float = HZ, seed: int = 2) -> np.ndarray:
    """Standing, dropping onto a chair with a 2.6 g jolt, sitting upright (no turn)."""
    rng = np.random.default_rng(seed)
    stand = np.tile([0.0, -1.0, 0.0], (int(5 * hz), 1))
    down = np.tile([0.0, -0.6, 0.0], (int(0.3 * hz), 1))
    jolt = np.tile([0.3, -2.6, 0.2], (max(1, int(hz / 20)), 1))
    sit = np.tile([0.15, -0.99, 0.0], (int(10 * hz), 1))
    x = np.vstack([stand, down, jolt, sit])
    return x + rng.normal(0, 0.02, x.shape)


def kinds(found: list[Finding]) -> list[str]:
    return [f.kind for f in found]


def trunk_by_default() -> FallDetector:
    """The shipped detector, scoring devices of unknown position with its trunk model: the
    synthetic signals here are trunk signals (a sensor on the body, the whole body turning
    by 90°), as SisFall's waist recordings are."""
    return FallDetector.from_params({**load_shipped_params(), "default_model": "trunk"})


@pytest.fixture(scope="module")
def det() -> FallDetector:
    return trunk_by_default()


def fresh() -> FallDetector:
    return trunk_by_default()


@pytest.mark.parametrize("hz", [20.0, 25.0, 50.0, 100.0, 200.0])
@pytest.mark.parametrize("tilt", [0.0, 70.0, 180.0])
def test_clean_fall_alarms_at_any_rate_and_mounting(hz: float, tilt: float) -> None:
    found = fresh().update("w", T0, hz, fall_signal(hz, tilt=tilt))
    falls = [f for f in found if f.kind == "fall"]
    assert len(falls) == 1
    impact_t = T0 + 6.4
    assert 0.0 < falls[0].at - impact_t <= 2.0
    assert falls[0].priority == "high"
    assert falls[0].evidence["angle_deg"] == pytest.approx(90, abs=15)
    assert "跌倒" in falls[0].reason["zh-CN"]
    assert "Fall detected" in falls[0].reason["en"]


@pytest.mark.parametrize("signal", [walking, hard_sit])
@pytest.mark.parametrize("hz", [20.0, 50.0])
def test_daily_activities_do_not_alarm(signal, hz: float) -> None:
    assert fresh().update("w", T0, hz, signal(hz)) == []


@pytest.mark.parametrize("seed", range(4))
def test_burst_boundaries_do_not_change_the_alarms(seed: int) -> None:
    rng = np.random.default_rng(seed)
    hz = [20.0, 25.0, 50.0, 200.0][seed]
    x = np.vstack([walking(hz, 8), fall_signal(hz, seed=seed, lie_s=70), walking(hz, 10)])
    whole = fresh().update("w", T0, hz, x)
    det, out, i = fresh(), [], 0
    while i < len(x):
        n = int(rng.integers(0, 40))
        out += det.update("w", T0 + i / hz, hz, x[i : i + n])
        i += n
    assert kinds(whole)[:2] == ["fall", "long_lie"]
    assert out == whole


def test_binning_matches_batch_mean() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (1000, 3))
    det, count, open_bin = resample, np.zeros(1, np.int64), np.zeros(1, np.int64)
    partial = det.empty_partial(1)
    got = []
    for chunk in np.array_split(x, 7):
        bins, done, partial = det.aggregate(chunk[None], count, open_bin, partial, 200.0, 20.0)
        got.append(bins[0, : done[0]])
        count += len(chunk)
        open_bin += done
    got_a = np.vstack(got)
    blocks = x.reshape(100, 10, 3)
    assert np.allclose(got_a[:, :3], blocks.mean(axis=1))
    assert np.allclose(got_a[:, 3], np.linalg.norm(blocks, axis=2).mean(axis=1))
    assert np.allclose(got_a[:, 4], np.linalg.norm(blocks, axis=2).max(axis=1))


def test_devices_do_not_share_state() -> None:
    hz = 50.0
    fall, walk = fall_signal(hz), walking(hz, len(fall_signal(hz)) / hz)
    det = fresh()
    found: list[Finding] = []
    for i in range(0, len(fall), 50):
        found += det.update_many(
            ["a", "b"],
            [T0 + i / hz, T0 + i / hz],
            hz,
            np.stack([fall[i : i + 50], walk[i : i + 50]]),
        )
    assert [f.device_id for f in found if f.kind == "fall"] == ["a"]
    alone = fresh().update("a", T0, hz, fall)
    assert [f.at for f in found] == [f.at for f in alone]
    assert det.devices == 2
    det.forget("a")
    assert det.devices == 1 and not det.in_follow_up("a")


def test_long_lie_then_recovery() -> None:
    hz = 25.0
    x = np.vstack([fall_signal(hz, lie_s=65), walking(hz, 15)])
    found = fresh().update("w", T0, hz, x)
    assert kinds(found) == ["fall", "long_lie", "fall_recovered"]
    fall, long_lie, up = found
    assert long_lie.priority == "high"
    assert long_lie.at - fall.at == pytest.approx(60, abs=0.1)
    assert up.at > T0 + len(fall_signal(hz, lie_s=65)) / hz
    assert up.evidence["long_lie"] is True


def test_quick_recovery_has_no_long_lie() -> None:
    hz = 50.0
    x = np.vstack([fall_signal(hz, lie_s=5), walking(hz, 60)])
    det = fresh()
    assert kinds(det.update("w", T0, hz, x)) == ["fall", "fall_recovered"]
    assert not det.in_follow_up("w")


def test_nan_samples_and_empty_bursts_are_harmless() -> None:
    hz = 50.0
    x = fall_signal(hz)
    x[50:60] = np.nan
    x[100, 1] = np.inf
    det = fresh()
    assert det.update("w", T0, hz, np.empty((0, 3))) == []
    assert kinds(det.update("w", T0, hz, x)) == ["fall"]
    # A burst that is nothing but NaN: no crash, no alarm.
    assert det.update("w", T0 + len(x) / hz, hz, np.full((100, 3), np.nan)) == []


def test_nan_over_the_impact_blocks_the_alarm() -> None:
    hz = 50.0
    x = fall_signal(hz)
    x[int(6.3 * hz) : int(6.6 * hz)] = np.nan
    assert fresh().update("w", T0, hz, x) == []


def test_gap_and_backwards_clock_restart_the_windows() -> None:
    hz = 50.0
    x = fall_signal(hz)
    impact = int(6.4 * hz)
    det = fresh()
    det.update("w", T0, hz, x[: impact - 10])
    # The clock jumps back 1 h in the middle of the fall: the windows restart, and a fall
    # whose "before" window lies on the other side of the jump cannot be confirmed.
    assert det.update("w", T0 - 3600, hz, x[impact - 10 :]) == []
    # A forward gap behaves the same; afterwards a complete fall is detected again.
    det.update("w", T0 + 7200, hz, x[: impact - 10])
    assert det.update("w", T0 + 7300, hz, x[impact - 10 :]) == []
    later = det.update("w", T0 + 9000, hz, x)
    assert kinds(later) == ["fall"]
    assert later[0].at == pytest.approx(9000 + fresh().update("w", T0, hz, x)[0].at, abs=1e-6)


def test_small_jitter_keeps_the_stream() -> None:
    hz = 50.0
    x = fall_signal(hz)
    det, out = fresh(), []
    for i in range(0, len(x), 50):
        out += det.update("w", T0 + i / hz + 0.004 * (-1) ** i, hz, x[i : i + 50])
    assert kinds(out) == ["fall"]


@pytest.mark.parametrize(
    ("hz", "shape"), [(10.0, (50, 3)), (500.0, (50, 3)), (50.0, (50, 2)), (float("nan"), (5, 3))]
)
def test_bad_input_is_a_clear_error(hz: float, shape: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=r"rate|shape"):
        fresh().update("w", T0, hz, np.zeros(shape))


def test_non_finite_t0_is_refused() -> None:
    with pytest.raises(ValueError, match="t0"):
        fresh().update("w", float("nan"), 50.0, np.zeros((5, 3)))


def test_shipped_parameters_are_consistent() -> None:
    det = FallDetector.shipped()
    assert [m.name for m in det.models] == ["wrist", "trunk"]
    for m in det.models:
        assert isinstance(m.model, BoostedTrees)
        assert m.model.n_features == len(FEATURE_NAMES)
        assert 0 < m.threshold < 1
        # Small: the wrist's 150 trees of depth 4 hold 6,901 numbers, the trunk's fewer.
        assert m.model.n_parameters < 8000
    assert det.grace_period >= det.geometry.history / det.working_hz
    # The latency goal (p90 <= 2 s from the impact) leaves room for the window.
    assert det.geometry.delay / det.working_hz <= 1.8


def test_parameter_file_for_other_features_is_refused() -> None:
    doc = load_shipped_params()
    wrist = doc["models"]["wrist"]
    doc["models"]["wrist"] = {**wrist, "model": {**wrist["model"], "features": ["log_peak"]}}
    with pytest.raises(ValueError, match="features"):
        FallDetector.from_params(doc)
    doc = load_shipped_params()
    with pytest.raises(ValueError, match="default model"):
        FallDetector.from_params({**doc, "default_model": "ankle"})


def _constant(logit: float) -> BoostedTrees:
    """Trees that score every candidate ``sigmoid(logit)``."""
    zeros = np.zeros((1, 1))
    return BoostedTrees(
        1, logit, np.zeros((1, 1), np.int64), zeros + np.inf, np.zeros((1, 2)), len(FEATURE_NAMES)
    )


def test_each_position_is_scored_by_its_own_model() -> None:
    params = dict(load_shipped_params()["params"])
    params.pop("threshold", None)
    params["pre_s"], params["post_s"] = tuple(params["pre_s"]), tuple(params["post_s"])
    always, never = _constant(20.0), _constant(-20.0)
    det = FallDetector(
        never,
        0.5,
        position_models=[
            PositionModel("wrist", ("wrist",), never, 0.5),
            PositionModel("trunk", ("waist", "chest"), always, 0.5),
        ],
        default_name="wrist",
        **params,
    )
    x = fall_signal(HZ)
    det.set_positions([("belt", "WAIST"), ("watch", "wrist"), ("pendant", "ankle")])
    assert [det.model_of(d) for d in ("belt", "watch", "pendant", "new")] == ["trunk"] + [
        "wrist"
    ] * 3
    found = det.update_many(["belt", "watch", "pendant"], [T0] * 3, HZ, np.stack([x, x, x]))
    falls = [f for f in found if f.kind == "fall"]
    assert [f.device_id for f in falls] == ["belt"]
    assert falls[0].evidence["model"] == "trunk"
    # Moving the device to the wrist takes effect from the next candidate; forgetting its
    # stream keeps the position.
    det.forget("belt")
    assert det.model_of("belt") == "trunk"
    det.set_position("belt", None)
    assert det.model_of("belt") == "wrist"
    assert [f.kind for f in det.update("belt", T0 + 100, HZ, x)] == []
    with pytest.raises(ValueError, match="two models"):
        FallDetector(
            never,
            0.5,
            position_models=[PositionModel("a", ("wrist",), never, 0.5)] * 2,
            **params,
        )


@pytest.mark.parametrize(
    ("hz", "n"), [(20.0, 20), (25.0, 25), (50.0, 50), (100.0, 30), (200.0, 200)]
)
def test_aligned_binning_equals_general_binning(hz: float, n: int) -> None:
    rng = np.random.default_rng(int(hz))
    x = rng.normal(0, 1.5, (6, n, 3))
    lay = resample.layout(hz, 20.0)
    assert lay is not None and n % lay.samples == 0
    x[4, 3, 1] = np.nan  # not usable by the fast path
    x[5, 2] = [40.0, 0.0, 0.0]  # needs clipping: not usable either
    fast, ok = resample.aggregate_aligned(x, lay, 32.0)
    zero = np.zeros(6, dtype=np.int64)
    general, done, _ = resample.aggregate(x, zero, zero, resample.empty_partial(6), hz, 20.0)
    assert ok.tolist() == [True] * 4 + [False, False]
    assert (done == fast.shape[2]).all()
    # Bit for bit: same operations in the same order.
    assert np.array_equal(fast[:, :4].transpose(1, 2, 0), general[:4])


@pytest.mark.parametrize("hz", [25.0, 50.0, 200.0])
def test_bins_do_not_depend_on_burst_boundaries_bit_for_bit(hz: float) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, (777, 3))
    x[100] = np.nan

    def binned(cuts: list[int]) -> np.ndarray:
        count, open_bin = np.zeros(1, np.int64), np.zeros(1, np.int64)
        partial, out = resample.empty_partial(1), []
        for chunk in np.split(x, cuts):
            if len(chunk) == 0:
                continue
            bins, done, partial = resample.aggregate(
                chunk[None], count, open_bin, partial, hz, 20.0
            )
            out.append(bins[0, : done[0]])
            count += len(chunk)
            open_bin += done
        return np.vstack(out)

    whole = binned([])
    cuts = sorted(rng.integers(1, len(x), 40).tolist())
    assert np.array_equal(binned(cuts), whole, equal_nan=True)


@pytest.mark.parametrize("burst", [7, 50])
def test_devices_in_any_order_and_phase_match_per_device_results(burst: int) -> None:
    """Shuffled device order (no consecutive rows), bursts that split bins (general path)
    or fill whole periods (fast path), and a fleet larger than one processing chunk."""
    hz = 50.0
    rng = np.random.default_rng(5)
    fall = fall_signal(hz, lie_s=4)
    n = len(fall) // burst * burst
    n_dev = 1100  # more than one chunk of devices
    signals = [fall if d % 97 == 0 else walking(hz, n / hz, seed=d % 5) for d in range(n_dev)]
    det = fresh()
    found: list[Finding] = []
    for i in range(0, n, burst):
        order = rng.permutation(n_dev)
        ids = [f"d{d}" for d in order]
        batch = np.stack([signals[d][i : i + burst] for d in order])
        found += det.update_many(ids, [T0 + i / hz] * n_dev, hz, batch)
    alone = fresh().update("d0", T0, hz, fall[:n])
    by_dev = {f.device_id for f in found if f.kind == "fall"}
    assert by_dev == {f"d{d}" for d in range(0, n_dev, 97)}
    assert [f.at for f in found if f.device_id == "d97"] == [f.at for f in alone]


def test_no_repeating_layout_for_odd_rates() -> None:
    assert resample.layout(50.0, 20.0) == resample.Layout(5, 2, ((0, 3), (3, 5)))
    assert resample.layout(33.3, 20.0) is None


def test_fleet_in_step_and_out_of_step_gives_per_device_results() -> None:
    """Devices binned by the fast path, the general path and a mix agree with `update`."""
    hz = 50.0
    fall = fall_signal(hz, lie_s=5)
    walk = walking(hz, len(fall) / hz)
    glitchy = fall.copy()
    glitchy[100:103] = np.nan
    signals = {"fall": fall, "walk": walk, "glitchy": glitchy, "late": fall}
    det = fresh()
    found: list[Finding] = []
    for i in range(0, len(fall) - 50, 50):
        ids = ["fall", "walk", "glitchy"] + (["late"] if i >= 100 else [])
        batch = np.stack([signals[d][i : i + 50] for d in ids])
        found += det.update_many(ids, [T0 + i / hz] * len(ids), hz, batch)
    # "late" joined after 2 s: its stream starts there, so its alarm comes at the same
    # time after the impact as for the others only if the impact is past its grace period.
    for dev in ("fall", "walk", "glitchy"):
        alone = fresh().update(dev, T0, hz, signals[dev][: (len(fall) - 50) // 50 * 50])
        assert [f.at for f in found if f.device_id == dev] == [f.at for f in alone]
    assert [f.device_id for f in found if f.kind == "fall"].count("walk") == 0
    assert "fall" in [f.device_id for f in found]


def test_vendor_fall_and_sos_become_findings() -> None:
    sos = finding_from_event("p-1", "sos", T0, {"press": "long", "room": "bathroom"})
    assert sos is not None and (sos.kind, sos.priority) == ("sos", "high")
    assert "bathroom" in sos.reason["en"] and sos.evidence["press"] == "long"
    fall = finding_from_event(
        "p-1", "fall", T0, {"impact_g": 3.2, "confidence": 0.9, "ext": {"a": 1}}
    )
    assert fall is not None and fall.kind == "fall" and "3.2 g" in fall.reason["en"]
    assert "ext" not in fall.evidence and fall.evidence["source"] == "device"
    assert finding_from_event("p-1", "door", T0, {}) is None


def test_finding_needs_both_languages() -> None:
    with pytest.raises(ValueError, match="languages"):
        Finding("d", "fall", "high", T0, {}, {"en": "x"})


def test_detect_package_does_no_io() -> None:
    banned = {"asyncio", "paho", "psycopg", "fastapi", "sqlite3", "socket", "requests"}
    root = Path(__file__).parents[3] / "hub" / "detect"
    for path in root.glob("*.py"):
        assert not top_level_imports(path) & banned, path.name
