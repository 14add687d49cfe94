"""Evaluate variants of the wrist fall model that the shipped detector does not use.

Ideas beyond the shipped wrist model, evaluated on FallAllD's wrist recordings under the
``--cv`` protocol of ``carehub eval falls`` (same subject folds, the calibration
machinery of :mod:`training.calibrate_falls` on the training subjects only):

``late``     a second, late look at doubtful candidates. A candidate scored at or above
             the early threshold alarms as today (1.75 s after the peak); one scored in a
             doubtful band below it is judged again ``late_s`` after the peak by a second
             boosted model that also sees what followed (``late_features`` of
             :mod:`training.wrist_features`). The early threshold, the band and the late
             threshold are chosen together on the training subjects' out-of-fold
             scores: the most falls within the false-alarm budget (3/h), specificity
             >= 97 % and at most ``max_late`` of the detected falls alarmed late (the
             latency goal is a p90 <= 2 s).
``context``  the early model also sees how the device moved in the ``context_s`` seconds
             before the candidate window (``context_features``).
``both``     the two together.
``sequence`` the early model also sees the candidate window itself, bin by bin
             (``sequence_features``: 4 channels averaged over 0.1 s, 132 numbers).
``trunk``    the wrist model also learns from the trunk recordings (SisFall waist, UMAFall
             waist and chest), with the position as a feature; thresholds from the wrist
             recordings only.
``shipped``  the shipped recipe, on the same footing (the reference).

Figures are per recording from candidate scores (a recording alarms when one of its
candidates does; every alarmed daily-activity candidate is a false alarm), as in the
calibration's validation blocks (so false alarms are counted on the high side: the
detector raises one alarm per fall followed). Run (3-8 min on two shared cores)::

    python -m training.wrist_variants --data ../shared/data/fallalld --variant late --seed 0

Data: FallAllD (Saleh et al., IEEE Sensors Journal 21(2), 2021).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from training import calibrate_falls as cal
from training.datasets import Recording, default_data_dir, load
from training.falls import subject_folds
from training.wrist_features import (
    DECIDE,
    HZ,
    binned,
    context_features,
    late_features,
    sequence_features,
)

F64 = NDArray[np.float64]
LATE_RECIPE = cal.Recipe(depth=3, n_trees=150, negative_weight=3.0)
MIN_SPEC = 0.97


@dataclass(frozen=True)
class Prepared:
    """Candidates of every recording (with the training-only lower-rate copies), the
    early features (with the context ones for ``context``), the late features, whether
    the late look has its data, each candidate's peak bin and each recording's impact."""

    recs: list[Recording]
    cands: cal.Candidates
    late: F64
    has_late: NDArray[np.bool_]
    peak_bin: NDArray[np.int64]
    impact_s: F64


def prepare(
    recs: list[Recording],
    late_s: float,
    context_s: float | None,
    trunk: Sequence[Recording] = (),
    *,
    sequence: bool = False,
) -> Prepared:
    """Stream the recordings through the candidate stage and add the variants' features.

    With ``trunk`` recordings (for training only) every candidate also gets the position
    as a feature (1 at the wrist, 0 at the trunk).
    """
    cands = cal.extract(recs, augmented=True)
    if trunk:
        more = cal.extract(trunk, augmented=True)
        cands = cal._merge([cands, more])
        at_wrist = np.array([r.position == "WRIST" for r in cands.recordings], dtype=np.float64)
        cands = replace(cands, feats=np.column_stack([cands.feats, at_wrist[cands.rec]]))
    bins = [binned(r) for r in cands.recordings]
    peak = np.round(cands.times * HZ).astype(np.int64) - DECIDE - 1
    rows = [late_features(bins[r], k, late_s) for r, k in zip(cands.rec, peak, strict=True)]
    width = next(len(x) for x in rows if x is not None)
    late = np.array([x if x is not None else np.zeros(width) for x in rows])
    has_late = np.array([x is not None for x in rows])
    if context_s is not None:
        ctx = np.array([context_features(bins[r], k, context_s) for r, k in
                        zip(cands.rec, peak, strict=True)])  # fmt: skip
        cands = replace(cands, feats=np.column_stack([cands.feats, ctx]))
    if sequence:
        seq = np.array([sequence_features(bins[r], k) for r, k in
                        zip(cands.rec, peak, strict=True)])  # fmt: skip
        cands = replace(cands, feats=np.column_stack([cands.feats, seq]))
    impact = np.array([np.argmax(np.linalg.norm(r.xyz_g, axis=1)) / r.hz for r in
                       cands.recordings])  # fmt: skip
    return Prepared(recs, cands, late, has_late, peak, impact)


@dataclass(frozen=True)
class Outcome:
    """Per candidate: alarmed early, alarmed late."""

    early: NDArray[np.bool_]
    late: NDArray[np.bool_]


def decide(
    s1: F64, s2: F64, has_late: NDArray[np.bool_], thr1: float, low: float, thr2: float
) -> Outcome:
    """Early alarm at ``s1 >= thr1``; a doubtful candidate (``low <= s1 < thr1``) alarms
    late when its late look exists and ``s2 >= thr2``."""
    early = s1 >= thr1
    return Outcome(early, ~early & (s1 >= low) & has_late & (s2 >= thr2))


def figures(c: cal.Candidates, out: Outcome) -> dict[str, float]:
    """Per-recording sensitivity, specificity, false alarms/h, detected falls and the
    share of them alarmed late only."""
    fall = np.array([r.is_fall for r in c.recordings])
    n = len(c.recordings)
    e_rec, a_rec = np.zeros(n, bool), np.zeros(n, bool)
    np.logical_or.at(e_rec, c.rec, out.early)
    np.logical_or.at(a_rec, c.rec, out.early | out.late)
    hours = sum(r.duration_s for r in c.recordings if not r.is_fall) / 3600.0
    detected = int(a_rec[fall].sum())
    return {
        "sensitivity": float(a_rec[fall].mean()),
        "specificity": float(1.0 - a_rec[~fall].mean()),
        "false_alarms_per_hour": float((out.early | out.late)[~fall[c.rec]].sum() / hours),
        "detected": detected,
        "late": int((a_rec & ~e_rec)[fall].sum()),
        "false_alarms": int((out.early | out.late)[~fall[c.rec]].sum()),
        "adl_hours": hours,
    }


def _grid(
    c: cal.Candidates,
    s1: F64,
    s2: F64,
    has_late: NDArray[np.bool_],
    thr1: float,
    low: float,
    thr2s: F64,
) -> tuple[F64, F64, F64, F64, F64]:
    """:func:`figures` for many late thresholds at once: sensitivity, specificity, false
    alarms/h, detected falls and late-only detections per entry of ``thr2s``."""
    fall = np.array([r.is_fall for r in c.recordings])
    n = len(c.recordings)
    early = s1 >= thr1
    e_rec = np.zeros(n, bool)
    np.logical_or.at(e_rec, c.rec, early)
    doubt = ~early & (s1 >= low) & has_late
    best2 = np.full(n, -1.0)
    np.maximum.at(best2, c.rec[doubt], s2[doubt])
    adl = ~fall[c.rec]
    late_adl = np.sort(s2[doubt & adl])
    n_fa = early[adl].sum() + len(late_adl) - np.searchsorted(late_adl, thr2s, side="left")
    late_rec = (best2[:, None] >= thr2s[None, :]) & ~e_rec[:, None]
    alarm = e_rec[:, None] | late_rec
    hours = sum(r.duration_s for r in c.recordings if not r.is_fall) / 3600.0
    detected = alarm[fall].sum(0).astype(np.float64)
    return (detected / fall.sum(), 1.0 - alarm[~fall].mean(0), n_fa / hours, detected,
            late_rec[fall].sum(0).astype(np.float64))  # fmt: skip


def choose(
    c: cal.Candidates, s1: F64, s2: F64, has_late: NDArray[np.bool_], max_late: float
) -> tuple[float, float, float]:
    """Early threshold, doubtful band's lower end and late threshold on training scores."""
    budget = cal.FA_BUDGET_PER_H["wrist"]
    thr_shipped = cal.choose_threshold(c, s1, budget)
    thr1s = np.unique(np.r_[thr_shipped, np.quantile(s1, np.linspace(0.9, 0.999, 30))])
    thr2s = np.unique(np.quantile(s2, np.linspace(0.3, 0.99995, 200)))
    best: tuple[tuple[float, float], float, float, float] | None = None
    for thr1 in thr1s.tolist():
        below = s1[s1 < thr1]
        lows = np.unique(np.quantile(below, np.linspace(0, 1, 30))) if len(below) else [thr1]
        for low in np.asarray(lows).tolist():
            sens, spec, fah, det, late = _grid(c, s1, s2, has_late, thr1, low, thr2s)
            ok = (fah <= budget) & (spec >= MIN_SPEC) & (late <= max_late * det)
            if not ok.any():
                continue
            j = int(np.flatnonzero(ok)[np.argmax(sens[ok] - 1e-3 * fah[ok])])
            key = (float(sens[j]), -float(fah[j]))
            if best is None or key > best[0]:
                best = (key, thr1, low, float(thr2s[j]))
    if best is None:
        return thr_shipped, 2.0, 2.0
    return best[1], best[2], best[3]


def evaluate(p: Prepared, variant: str, seed: int, k: int, late_s: float,
             max_late: float) -> dict[str, Any]:  # fmt: skip
    """Subject-grouped CV (``k`` folds, ``seed``) of one variant; pooled figures."""
    c = p.cands
    wrist = cal.RECIPES["wrist"]
    with_late = replace(c, feats=np.column_stack([c.feats, p.late]))
    who = [(r.dataset, r.subject) for r in c.recordings]
    original = ~c.augmented[c.rec] if c.augmented is not None else np.ones(len(c.rec), bool)
    early_all = np.zeros(len(c.rec), bool)
    late_all = np.zeros(len(c.rec), bool)
    tested = np.zeros(len(c.rec), bool)
    s1_all, s2_all = np.zeros(len(c.rec)), np.zeros(len(c.rec))
    for test in subject_folds(p.recs, k, seed):
        held = {(r.dataset, r.subject) for r, t in zip(p.recs, test.tolist(), strict=True) if t}
        train = np.array([s not in held for s in who])
        tr = c.subset(train)
        orig_tr = ~tr.augmented[tr.rec] if tr.augmented is not None else slice(None)
        x, y, w = cal.training_set(tr, wrist.negative_weight)
        m1 = cal.fit_model(x, y, w, wrist)
        s1o = cal.out_of_fold_scores(tr, recipe=wrist)[orig_tr]
        te = (~train)[c.rec] & original
        s1 = m1.score(c.feats[te])
        s2, s2o = np.zeros(int(te.sum())), np.zeros(len(s1o))
        if variant in ("late", "both"):
            tr2 = with_late.subset(train)
            x2, y2, w2 = cal.training_set(tr2, LATE_RECIPE.negative_weight)
            s2 = cal.fit_model(x2, y2, w2, LATE_RECIPE).score(with_late.feats[te])
            s2o = cal.out_of_fold_scores(tr2, recipe=LATE_RECIPE)[orig_tr]
            thr1, low, thr2 = choose(tr.originals(), s1o, s2o,
                                     p.has_late[train[c.rec]][orig_tr], max_late)  # fmt: skip
        else:
            # Thresholds from the wrist recordings only (trunk ones are training data).
            wr = np.array([r.position == "WRIST" for r in tr.originals().recordings])
            s_wr = s1o[wr[tr.originals().rec]]
            thr1, low, thr2 = cal.choose_threshold(tr.originals().subset(wr), s_wr, 3.0), 2.0, 2.0
        out = decide(s1, s2, p.has_late[te], thr1, low, thr2)
        early_all[te], late_all[te], tested[te] = out.early, out.late, True
        s1_all[te], s2_all[te] = s1, np.where(p.has_late[te], s2, 0.0)
    # Every original recording is held out once (also those without a candidate).
    keep = ~c.augmented if c.augmented is not None else np.ones(len(c.recordings), bool)
    keep &= np.array([r.position == "WRIST" for r in c.recordings])
    sub = c.subset(keep)
    res = figures(sub, Outcome(early_all[tested], late_all[tested]))
    res.update(latency(p, tested, early_all, late_all, late_s))
    res["ranking_early_model"] = ranking(sub, s1_all[tested])
    if variant in ("late", "both"):
        res["ranking_late_model"] = ranking(sub, s2_all[tested])
    return {"variant": variant, "seed": seed, "cv_folds": k, "late_s": late_s, **res}


def ranking(c: cal.Candidates, scores: F64, fa_per_h: float = 3.0) -> float:
    """How well scores rank falls above daily activities: the sensitivity at the one
    threshold over all test folds where the daily activities raise ``fa_per_h`` (chosen
    on the test subjects, so only for comparing variants, never a result)."""
    fall = np.array([r.is_fall for r in c.recordings])
    best = np.full(len(c.recordings), -1.0)
    np.maximum.at(best, c.rec, scores)
    hours = sum(r.duration_s for r in c.recordings if not r.is_fall) / 3600.0
    adl = np.sort(scores[~fall[c.rec]])[::-1]
    n = int(fa_per_h * hours)
    thr = adl[n] if n < len(adl) else -1.0
    return float(np.mean(best[fall] > thr))


def latency(p: Prepared, tested: NDArray[np.bool_], early: NDArray[np.bool_],
            late: NDArray[np.bool_], late_s: float) -> dict[str, float]:  # fmt: skip
    """Median and p90 from the impact (largest |a|) to the first alarm, over falls."""
    c = p.cands
    at = np.where(early, (p.peak_bin + DECIDE + 1) / HZ, (p.peak_bin + round(HZ * late_s) + 1) / HZ)
    first = np.full(len(c.recordings), np.inf)
    alarm = tested & (early | late)
    np.minimum.at(first, c.rec[alarm], at[alarm])
    fall = np.array([r.is_fall for r in c.recordings])
    lat = (first - p.impact_s)[fall & np.isfinite(first)]
    return {
        "latency_median_s": float(np.median(lat)),
        "latency_p90_s": float(np.percentile(lat, 90)),
    }


def cv_parser(doc: str) -> argparse.ArgumentParser:
    """The command line of a wrist comparison (described by the first line of ``doc``):
    ``--data``, the fold split (``--seed``, ``--cv``) and the device ``--rate``."""
    ap = argparse.ArgumentParser(description=doc.split("\n", maxsplit=1)[0])
    ap.add_argument("--data", type=Path, default=default_data_dir() / "fallalld")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--rate", type=float, default=50.0)
    return ap


def print_json(res: dict[str, Any]) -> None:
    """One result as a line of JSON, its figures to 4 decimals."""
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: one variant, one fold split, the figures as JSON."""
    ap = cv_parser(__doc__)
    variants = ("shipped", "late", "context", "both", "trunk", "sequence")
    ap.add_argument("--variant", choices=variants, default="late")
    ap.add_argument("--late-s", type=float, default=6.0)
    ap.add_argument("--context-s", type=float, default=8.5)
    ap.add_argument("--max-late", type=float, default=0.09)
    args = ap.parse_args(argv)
    recs = load(args.data, args.rate, "WRIST")
    ctx = args.context_s if args.variant in ("context", "both") else None
    trunk: list[Recording] = []
    if args.variant == "trunk":
        root = args.data.parent
        uma = load(root / "umafall", 20.0)
        trunk = load(root / "sisfall", args.rate, "WAIST")
        trunk += [r for r in uma if r.position in ("WAIST", "CHEST")]
    p = prepare(recs, args.late_s, ctx, trunk, sequence=args.variant == "sequence")
    res = evaluate(p, args.variant, args.seed, args.cv, args.late_s, args.max_late)
    if ctx is not None:
        res["context_s"] = ctx
    print_json(res)


if __name__ == "__main__":
    main()
