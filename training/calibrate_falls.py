"""Calibrate the fall detector: fit its learned stages and alarm thresholds on recordings.

Rerun the shipped calibration (deterministic; a few minutes on two cores)::

    python -m training.calibrate_falls --data ../shared/data --out hub/detect/fall_params.json

Procedure
---------
1. Every recording is resampled to each calibration rate (default 20, 25 and 50 Hz; the
   20 Hz body tags of UMAFall only to rates they can honestly provide) and streamed through
   the detector's candidate stage; each impact candidate yields its window features.
2. One model per body position (:data:`POSITION_MODELS`): the wrist model learns from wrist
   recordings, the trunk model from waist and chest recordings. Steps 3-6 run per model.
3. Positives: in each fall recording, the candidate with the largest impact. Negatives:
   every candidate of the daily-activity recordings. Other candidates of fall recordings
   are left out (they may belong to the fall).
4. Sample weights give every (data set, position, rate) group the same total weight, split
   equally between positives and negatives, so no data set's quirks dominate.
5. Small gradient-boosted trees (:mod:`training.boosting`, deterministic) are fitted on
   the weighted log-loss, with the model's :data:`RECIPES` (tree depth and count, and the
   weight of daily-activity candidates).
6. The alarm threshold is chosen on out-of-fold scores (inner subject-grouped folds of the
   calibration subjects, so it is not fooled by in-sample optimism), per recording, as
   :func:`choose_threshold` describes, with the model's false-alarm budget
   (:data:`FA_BUDGET_PER_H`); the middle of the best plateau is taken so the choice is
   not on a knife edge.

Data: SisFall (Sucerquia et al., Sensors 17(1):198, 2017), UMAFall (Casilari et al.,
Procedia Computer Science 110, 2017) and FallAllD (Saleh et al., IEEE Sensors Journal
21(2), 2021).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit

from hub.detect.fall_features import FEATURE_NAMES, LogisticModel, expand, n_expanded
from hub.detect.fall_model import BoostedTrees
from hub.detect.falls import FallDetector, load_shipped_params
from training.boosting import fit_boosted
from training.datasets import Recording, default_data_dir, load, resample_even

DEFAULT_RATES = (20.0, 25.0, 50.0)
UMAFALL_MAX_HZ = 25.0
"""UMAFall's body tags sample at about 20 Hz: not resampled above this for calibration."""
DEFAULT_POSITIONS = ("WRIST", "WAIST", "CHEST")
POSITION_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "wrist": (("WRIST",), ("wrist",)),
    "trunk": (("WAIST", "CHEST"), ("waist", "chest", "neck")),
}
"""Model name -> (recording positions it learns from, device positions it serves). A
pendant on a cord (``neck``) has no recordings of its own; it moves with the trunk."""
DEFAULT_MODEL = "wrist"
"""Serves devices without a declared position the router can map (the stricter model: a
trunk signal scored by it loses some sensitivity, a wrist scored by the trunk model would
raise many false alarms)."""
FA_BUDGET_PER_H: dict[str, float] = {"wrist": 3.0, "trunk": 0.9}
"""False alarms per hour of daily activity allowed on out-of-fold scores when choosing a
threshold: the goals (3/h at the wrist; at the trunk 0.9, below its goal of 1/h). Every
candidate above the threshold counts there, so the detector itself (one alarm per fall
followed) raises somewhat fewer."""
FA_WEIGHT = 0.01
SENS_WEIGHT = 1.5
"""Weight of sensitivity against specificity where no false-alarm budget applies: a
missed fall (a person left on the floor) costs more than a false alarm."""
MIN_SENS_IN_BUDGET = 0.5
"""A false-alarm budget is kept unless it leaves less mean sensitivity than this."""


@dataclass(frozen=True, slots=True)
class Recipe:
    """How one position's trees are grown: ``n_trees`` trees of depth ``depth``, with the
    daily-activity candidates weighted ``negative_weight`` times the falls (after the
    per-group balancing of step 4)."""

    depth: int = 3
    n_trees: int = 150
    negative_weight: float = 1.0


RECIPES: dict[str, Recipe] = {
    "wrist": Recipe(depth=4, negative_weight=3.0),
    "trunk": Recipe(),
}
"""Per model. The wrist's alarm threshold sits far in the tail of the daily-activity scores
(3 false alarms/h among many hand impacts that look like falls), so its loss weights those
candidates 3 times the falls, and trees one level deeper let it combine impact, turn,
stillness and the activity before (150 such trees: 6,901 numbers). The trunk's recipe is
the one its figures were reached with."""
PARAMS_VERSION = "3.1"
"""Bumped whenever features, windows or the procedure change."""
L2 = 1e-4
INNER_FOLDS = 4
PEAK_BASELINE_G = 3.52
"""Upper fall threshold for the trunk, Bourke et al., Gait & Posture 26(2):194-199, 2007."""

DETECTOR_PARAMS: dict[str, Any] = {
    "trigger_g": 1.5,
    "working_hz": 20.0,
    "pre_s": [1.5, 0.5],
    "post_s": [0.5, 1.75],
    "sep_s": 1.0,
    "max_jitter_s": 0.05,
    "long_lie_s": 60.0,
    "recover_s": 4.0,
    "walk_std_g": 0.12,
    "still_std_g": 0.04,
}
"""Structural parameters (not fitted): window layout, trigger, follow-up rules."""


@dataclass(frozen=True, slots=True)
class Candidates:
    """Candidate features of a set of recordings (``rec`` indexes ``recordings``)."""

    recordings: list[Recording]
    rec: NDArray[np.int64]
    times: NDArray[np.float64]
    feats: NDArray[np.float64]
    augmented: NDArray[np.bool_] | None = None
    """Per recording: a lower-rate copy made for training only (see :func:`augment`)."""

    def subset(self, keep_recs: NDArray[np.bool_]) -> Candidates:
        """Only the candidates (and recordings) where ``keep_recs`` is true."""
        new_index = np.cumsum(keep_recs) - 1
        mask = keep_recs[self.rec]
        recs = [r for r, k in zip(self.recordings, keep_recs.tolist(), strict=True) if k]
        aug = None if self.augmented is None else self.augmented[keep_recs]
        return Candidates(recs, new_index[self.rec[mask]], self.times[mask], self.feats[mask], aug)

    def originals(self) -> Candidates:
        """Without the augmented copies (what thresholds are chosen and scored on)."""
        if self.augmented is None or not self.augmented.any():
            return self
        return self.subset(~self.augmented)


def template_detector() -> FallDetector:
    """A detector with the structural parameters (its model is never used for scoring)."""
    zeros = tuple(0.0 for _ in FEATURE_NAMES)
    weights = tuple(0.0 for _ in range(n_expanded(len(FEATURE_NAMES))))
    model = LogisticModel(zeros, tuple(1.0 for _ in FEATURE_NAMES), weights, 0.0)
    kw = dict(DETECTOR_PARAMS)
    kw["pre_s"], kw["post_s"] = tuple(kw["pre_s"]), tuple(kw["post_s"])
    return FallDetector(model, 0.5, **kw)


def augment(
    recordings: Sequence[Recording], rates: Sequence[float] = DEFAULT_RATES
) -> list[Recording]:
    """Copies of the recordings at every lower calibration rate (anti-aliased resampling).

    Rate jitter for training: the same movements as slower devices would deliver them,
    so the learned stage does not lean on one device's sampling. Never upwards (a 20 Hz
    recording cannot stand in for a 50 Hz device).
    """
    out: list[Recording] = []
    for rate in sorted(set(rates)):
        for r in recordings:
            if rate < r.hz - 1e-9:
                xyz = resample_even(r.xyz_g, r.hz, rate)
                out.append(
                    replace(r, key=f"{r.key}@{rate:g}Hz", hz=rate, t=np.arange(len(xyz)) / rate,
                            xyz_g=np.ascontiguousarray(xyz))
                )  # fmt: skip
    return out


def extract(
    recordings: Sequence[Recording],
    tick: Callable[[int], None] | None = None,
    *,
    augmented: bool = False,
) -> Candidates:
    """Stream every recording through the candidate stage and collect features.

    With ``augmented`` the lower-rate copies of :func:`augment` are added for training;
    ``tick`` counts the given recordings only.
    """
    det = template_detector()
    extra = augment(recordings) if augmented else []
    everything = [*recordings, *extra]
    recs, times, feats = [], [], []
    for i, r in enumerate(everything):
        t, f = det.candidates(r.hz, r.xyz_g)
        recs.append(np.full(len(t), i, dtype=np.int64))
        times.append(t)
        feats.append(f)
        if tick and i < len(recordings):
            tick(1)
    return Candidates(
        everything,
        np.concatenate(recs) if recs else np.empty(0, np.int64),
        np.concatenate(times) if times else np.empty(0),
        np.vstack(feats) if feats else np.empty((0, len(FEATURE_NAMES))),
        np.arange(len(everything)) >= len(recordings),
    )


def training_rows(c: Candidates) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which candidates are trained on (every daily-activity candidate and the largest
    impact of each fall recording) and their labels (1 for those largest impacts)."""
    is_fall = np.array([r.is_fall for r in c.recordings], dtype=bool)
    keep = ~is_fall[c.rec]
    label = np.zeros(len(c.rec))
    peak = c.feats[:, FEATURE_NAMES.index("log_peak")]
    for i in np.flatnonzero(is_fall):
        mine = np.flatnonzero(c.rec == i)
        if len(mine):
            best = mine[np.argmax(peak[mine])]
            keep[best] = True
            label[best] = 1.0
    return keep, label


def training_set(
    c: Candidates, negative_weight: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Features, labels and balanced weights (see the module docstring, steps 3-4; the
    daily-activity candidates then weigh ``negative_weight`` times as much)."""
    group = np.array([f"{r.dataset}/{r.position}/{r.hz:g}" for r in c.recordings])
    keep, label = training_rows(c)
    x, y, g = c.feats[keep], label[keep], group[c.rec[keep]]
    w = np.zeros(len(y))
    for name in np.unique(g):
        for cls in (0.0, 1.0):
            m = (g == name) & (y == cls)
            if m.any():
                w[m] = (1.0 if cls else negative_weight) / m.sum()
    return x, y, w / w.sum() * 2.0


def fit_logistic(
    x: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64], l2: float = L2
) -> LogisticModel:
    """Weighted L2-penalised logistic regression on standardised features (the learned
    stage of parameter files version 1; kept to compare against)."""
    mean = (w[:, None] * x).sum(0) / w.sum()
    scale = np.sqrt((w[:, None] * (x - mean) ** 2).sum(0) / w.sum())
    scale = np.where(scale > 1e-9, scale, 1.0)
    z = np.column_stack([expand((x - mean) / scale), np.ones(len(x))])

    def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        logit = z @ theta
        # log(1 + e^-|s|) + max(s, 0) - y s  is the numerically stable log-loss.
        val = np.log1p(np.exp(-np.abs(logit))) + np.maximum(logit, 0.0) - y * logit
        p = expit(logit)
        grad = z.T @ (w * (p - y))
        grad[:-1] += l2 * theta[:-1]
        return float(w @ val + 0.5 * l2 * theta[:-1] @ theta[:-1]), grad

    res = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B")
    theta = res.x
    return LogisticModel(
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in theta[:-1]),
        float(theta[-1]),
    )


def threshold_curve(
    c: Candidates, scores: NDArray[np.float64], grid: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per-recording sensitivity, specificity and false alarms/h for each threshold."""
    n = len(c.recordings)
    is_fall = np.array([r.is_fall for r in c.recordings])
    best = np.full(n, -np.inf)
    np.maximum.at(best, c.rec, scores)
    adl_hours = sum(r.duration_s for r in c.recordings if not r.is_fall) / 3600.0
    adl_scores = np.sort(scores[~is_fall[c.rec]])
    sens = (
        (best[is_fall][None, :] >= grid[:, None]).mean(1) if is_fall.any() else np.ones(len(grid))
    )
    spec = (
        (best[~is_fall][None, :] < grid[:, None]).mean(1)
        if (~is_fall).any()
        else np.ones(len(grid))
    )
    alarms = len(adl_scores) - np.searchsorted(adl_scores, grid, side="left")
    return sens, spec, alarms / max(adl_hours, 1e-9)


def choose_threshold(c: Candidates, scores: NDArray[np.float64], fa_budget: float) -> float:
    """Step 6 of the procedure, for one model.

    Groups are the data sets with the position (e.g. ``fallalld/WRIST``). Where the pooled
    false alarms (over all daily-activity hours of the candidates' recordings) stay within
    ``fa_budget`` per hour and that still leaves ``MIN_SENS_IN_BUDGET`` mean sensitivity,
    the threshold maximises the mean over groups of sensitivity + specificity. Otherwise (a
    budget out of reach) it maximises the mean over groups of ``SENS_WEIGHT`` x
    sensitivity + specificity - ``FA_WEIGHT`` x false alarms/h (a missed fall, a person
    left on the floor, weighs more than a false alarm).
    """
    grid = expit(np.linspace(-4.0, 14.0, 600))
    names = np.array([f"{r.dataset}/{r.position}" for r in c.recordings])
    groups = sorted(set(names.tolist()))
    _, _, pooled_fah = threshold_curve(c, scores, grid)
    mean_sens = np.zeros(len(grid))
    mean_spec = np.zeros(len(grid))
    mean_fah = np.zeros(len(grid))
    for g in groups:
        keep = names == g
        sens, spec, fah = threshold_curve(c.subset(keep), scores[keep[c.rec]], grid)
        mean_sens += sens / len(groups)
        mean_spec += spec / len(groups)
        mean_fah += fah / len(groups)
    within = pooled_fah <= fa_budget
    if within.any() and mean_sens[within].max() >= MIN_SENS_IN_BUDGET:
        objective = mean_sens + mean_spec - np.where(within, 0.0, 10.0 + pooled_fah)
    else:
        objective = SENS_WEIGHT * mean_sens + mean_spec - FA_WEIGHT * mean_fah
    good = np.flatnonzero(objective >= objective.max() - 1e-3)
    return float(np.median(grid[good]))


def out_of_fold_scores(
    c: Candidates, k: int = INNER_FOLDS, recipe: Recipe | None = None
) -> NDArray[np.float64]:
    """Candidate scores from models that did not see the candidate's subject.

    In-sample scores are optimistic (the model has seen those recordings), which would put
    the threshold too low; the threshold is therefore chosen on these instead.
    """
    subjects = sorted({(r.dataset, r.subject) for r in c.recordings})
    fold_of = {s: i % k for i, s in enumerate(subjects)}
    rec_fold = np.array([fold_of[(r.dataset, r.subject)] for r in c.recordings])
    scores = np.zeros(len(c.rec))
    rc = recipe or Recipe()
    for f in range(min(k, len(subjects))):
        test = rec_fold == f
        x, y, w = training_set(c.subset(~test), rc.negative_weight)
        mask = test[c.rec]
        scores[mask] = fit_model(x, y, w, rc).score(c.feats[mask])
    return scores


def fit_model(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64],
    recipe: Recipe | None = None,
) -> BoostedTrees:
    """The learned stage as shipped: boosted trees (see :mod:`training.boosting`)."""
    rc = recipe or Recipe()
    return fit_boosted(x, y, w, n_trees=rc.n_trees, depth=rc.depth)


def calibrate(c: Candidates, fa_budget: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Fit one model and threshold per position (steps 2-6) on the candidates.

    Returns the ``params``, ``models`` and ``default_model`` parts of the parameter file;
    a model whose positions have no recordings (or no falls) here is left out.
    """
    budgets = {**FA_BUDGET_PER_H, **(fa_budget or {})}
    position = np.array([r.position for r in c.recordings])
    models: dict[str, Any] = {}
    for name, (learn_from, serves) in POSITION_MODELS.items():
        mine = np.isin(position, learn_from)
        if not mine.any():
            continue
        sub = c.subset(mine)
        recipe = RECIPES.get(name, Recipe())
        x, y, w = training_set(sub, recipe.negative_weight)
        if not (y == 1.0).any() or not (y == 0.0).any():
            continue
        model = fit_model(x, y, w, recipe)
        scores = out_of_fold_scores(sub, recipe=recipe)
        orig = np.ones(len(sub.recordings), dtype=bool)
        if sub.augmented is not None:
            orig = ~sub.augmented
        held = scores[orig[sub.rec]]
        threshold = round(choose_threshold(sub.originals(), held, budgets[name]), 4)
        models[name] = {
            "positions": list(serves),
            "threshold": threshold,
            "model": {**model.to_json(), "features": list(FEATURE_NAMES)},
            "validation": validation(sub.originals(), held, threshold),
        }
    if not models:
        raise ValueError("no falls and daily activities of a known position to calibrate on")
    default = DEFAULT_MODEL if DEFAULT_MODEL in models else next(iter(models))
    return {"params": dict(DETECTOR_PARAMS), "models": models, "default_model": default}


def validation(c: Candidates, scores: NDArray[np.float64], threshold: float) -> dict[str, Any]:
    """Held-out figures behind the threshold, per data set and position (all rates).

    From the out-of-fold scores (every subject scored by a model that did not see them);
    a false alarm here is every candidate above the threshold, without the detector's
    "one alarm per fall" follow-up, so false alarms are counted on the high side.
    """
    names = np.array([f"{r.dataset}/{r.position.lower()}" for r in c.recordings])
    out: dict[str, Any] = {"protocol": f"{INNER_FOLDS} subject-grouped folds, out-of-fold"}
    for g in sorted(set(names.tolist())):
        keep = names == g
        sens, spec, fah = threshold_curve(
            c.subset(keep), scores[keep[c.rec]], np.array([threshold])
        )
        out[g] = {
            "sensitivity": round(float(sens[0]), 4),
            "specificity": round(float(spec[0]), 4),
            "false_alarms_per_hour": round(float(fah[0]), 2),
        }
    return out


def load_candidates(
    data: Sequence[Path],
    rates: Sequence[float] = DEFAULT_RATES,
    positions: Sequence[str] = DEFAULT_POSITIONS,
    log: Callable[[str], None] | None = None,
) -> Candidates:
    """Candidates of every recording of the data sets (directories, or directories of data
    sets) at every rate, for the given positions (step 1)."""
    keep = {p.upper() for p in positions}
    parts: list[Candidates] = []
    for rate in rates:
        recs = [r for root in data for r in load(root, rate) if r.position in keep]
        # Tags that sample at ~20 Hz cannot honestly stand in for faster devices.
        recs = [r for r in recs if r.dataset != "umafall" or rate <= UMAFALL_MAX_HZ]
        if log:
            log(f"rate {rate:g} Hz: {len(recs)} recordings")
        parts.append(extract(recs))
    return _merge(parts)


def baseline_thresholds(recordings: Sequence[Recording]) -> dict[str, Any]:
    """Thresholds of the two reference detectors fitted on the recordings."""
    from training.baselines import c8_stat, fit_threshold, peak_stat

    is_fall = np.array([r.is_fall for r in recordings])
    c8 = np.array([c8_stat(r) for r in recordings])
    peak = np.array([peak_stat(r) for r in recordings])
    return {
        "peak_g": PEAK_BASELINE_G,
        "peak_g_source": "Bourke et al., Gait & Posture 26(2), 2007 (trunk UFT)",
        "c8_g": round(fit_threshold(c8, is_fall), 4),
        "c8_source": "Sucerquia et al., Sensors 17(1):198, 2017 (C8); threshold fitted here",
        "peak_g_fitted": round(fit_threshold(peak, is_fall), 4),
    }


def to_json(doc: Mapping[str, Any]) -> str:
    """The parameter file's text: indented, with each innermost list of numbers (a tree's
    nodes or leaves) on one line."""
    text = json.dumps(doc, indent=1)
    number = r"(?:-?Infinity|[-+0-9.eE]+)"
    flat = re.sub(
        rf"\[\s*({number}(?:\s*,\s*{number})*)\s*\]",
        lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
        text,
    )
    return flat + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: calibrate on every data set under ``--data`` and write the JSON file."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--rates", default=",".join(f"{r:g}" for r in DEFAULT_RATES))
    ap.add_argument("--positions", default=",".join(DEFAULT_POSITIONS).lower())
    args = ap.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    positions = [p.strip() for p in args.positions.split(",")]
    merged = load_candidates([args.data], rates, positions, log=lambda m: print(m, flush=True))
    doc = calibrate(merged)
    doc["baselines"] = baseline_thresholds(merged.recordings)
    sets = sorted({f"{r.dataset}/{r.position.lower()}" for r in merged.recordings})
    out = {
        "version": PARAMS_VERSION,
        "trained_on": {
            "datasets": sets,
            "rates_hz": rates,
            "recordings": len(merged.recordings),
            "subjects": len({(r.dataset, r.subject) for r in merged.recordings}),
            "command": "python -m training.calibrate_falls --data ../shared/data "
            "--out hub/detect/fall_params.json",
        },
        **doc,
    }
    args.out.write_text(to_json(out), encoding="utf-8")
    for name, m in doc["models"].items():
        print(f"{name}: threshold {m['threshold']}, {m['model']['n_parameters']} numbers")


def _merge(parts: Sequence[Candidates]) -> Candidates:
    recs: list[Recording] = []
    idx, times, feats = [], [], []
    for p in parts:
        idx.append(p.rec + len(recs))
        recs.extend(p.recordings)
        times.append(p.times)
        feats.append(p.feats)
    aug = np.concatenate(
        [
            p.augmented if p.augmented is not None else np.zeros(len(p.recordings), bool)
            for p in parts
        ]
    )
    return Candidates(recs, np.concatenate(idx), np.concatenate(times), np.vstack(feats), aug)


def shipped_baselines() -> dict[str, Any]:
    """Baseline thresholds stored with the shipped parameters."""
    base: dict[str, Any] = load_shipped_params().get("baselines", {})
    return base


if __name__ == "__main__":
    main()
