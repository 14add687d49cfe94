"""A small convolutional network on the candidate window: a comparison for the wrist model.

Not shipped and not part of the detector: it answers whether a learner that sees the
whole candidate window, bin by bin, ranks FallAllD's wrist falls above its daily
activities better than the boosted trees on the 27 window features do. The network sees
the window of :func:`training.wrist_features.sequence_features` (4 channels, 66 bins at
20 per second: 1.5 s before the peak to 1.75 s after) through four 1-D convolutions with
global max and mean pooling, joined with the 27 window features in a small dense head.
Training follows the calibration: positives are the largest-impact candidate of each fall,
negatives every daily-activity candidate, each rate group balanced between them with the
daily activities weighted 3x, and the lower-rate copies of the training recordings
added. ``--ensemble`` networks with different initial weights are averaged.

The figure is the *ranking* of :func:`training.wrist_variants.ranking`: the sensitivity at
the one threshold over all held-out folds where the daily activities raise 3 false
alarms/h (chosen on the test subjects, so for comparing learners only, never a result),
over the ``--cv 5`` subject folds of the given seed. The boosted trees' ranking on the
same folds is ``ranking_early_model`` of ``python -m training.wrist_variants --variant
shipped``.

Needs PyTorch, which ``make venv`` does not install (``pip install -e ".[research]"``). Run
(4-5 min per seed with 3 networks on two shared cores)::

    python -m training.wrist_cnn --data ../shared/data/fallalld --seed 0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from training import calibrate_falls as cal
from training import wrist_variants as wv
from training.datasets import load
from training.falls import subject_folds
from training.wrist_features import SEQUENCE_CHANNELS, binned, sequence_features

F32 = NDArray[np.float32]
BATCH = 256


def windows(p: wv.Prepared) -> F32:
    """Every candidate's window, ``(N, channels, bins)``; ``|a|`` channels as ``|a| - 1``
    and ``log max |a|``, so all four sit near zero at rest."""
    bins = [binned(r) for r in p.cands.recordings]
    rows = [sequence_features(bins[r], k, pool=1) for r, k in
            zip(p.cands.rec.tolist(), p.peak_bin.tolist(), strict=True)]  # fmt: skip
    x = np.array(rows).reshape(len(rows), len(SEQUENCE_CHANNELS), -1)
    x[:, 0] -= 1.0
    x[:, 1] = np.log(np.maximum(x[:, 1], 1e-3))
    return x.astype(np.float32)


def labels_and_weights(c: cal.Candidates, idx: NDArray[np.int64]) -> tuple[F32, F32]:
    """The calibration's labels and weights for the candidates ``idx`` of ``c`` (the other
    candidates of a fall recording than its largest impact get weight 0)."""
    _, y, w = cal.training_set(_of(c, idx), cal.RECIPES["wrist"].negative_weight)
    return y.astype(np.float32), (w / w.mean()).astype(np.float32)


def train_and_score(
    x_tr: F32, f_tr: F32, y: F32, w: F32, x_te: F32, f_te: F32, seed: int, epochs: int
) -> NDArray[np.float64]:
    """Fit one network on the training windows and features, score the test ones."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)
    mu, sd = f_tr.mean(0), f_tr.std(0) + 1e-6
    net = nn.ModuleDict({
        "conv": nn.Sequential(
            nn.Conv1d(x_tr.shape[1], 32, 5, padding=2), nn.ReLU(),
            nn.Conv1d(32, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(64, 64, 3, padding=1), nn.ReLU(),
        ),
        "head": nn.Sequential(nn.Linear(128 + f_tr.shape[1], 64), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(64, 1)),
    })  # fmt: skip

    def forward(xb: Any, fb: Any) -> Any:
        h = net["conv"](xb)
        return net["head"](torch.cat([h.amax(2), h.mean(2), fb], 1)).squeeze(1)

    xt, ft = torch.from_numpy(x_tr), torch.from_numpy((f_tr - mu) / sd)
    yt, wt = torch.from_numpy(y), torch.from_numpy(w)
    opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-3)
    for _ in range(epochs):
        net.train()
        perm = rng.permutation(len(y))
        for i in range(0, len(y), BATCH):
            b = torch.from_numpy(perm[i : i + BATCH])
            loss = nn.functional.binary_cross_entropy_with_logits(
                forward(xt[b], ft[b]), yt[b], reduction="none"
            )
            opt.zero_grad()
            total: Any = (loss * wt[b]).mean()
            total.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        out = forward(torch.from_numpy(x_te), torch.from_numpy((f_te - mu) / sd))
    return np.asarray(out.numpy(), dtype=np.float64)


def evaluate(p: wv.Prepared, seed: int, k: int, ensemble: int, epochs: int) -> dict[str, Any]:
    """Subject-grouped CV (``k`` folds, ``seed``): every original recording held out once,
    scored by the mean of ``ensemble`` networks trained without its subject."""
    c = p.cands
    x, f = windows(p), c.feats.astype(np.float32)
    who = [(r.dataset, r.subject) for r in c.recordings]
    original = ~c.augmented[c.rec] if c.augmented is not None else np.ones(len(c.rec), bool)
    scores = np.zeros(len(c.rec))
    for fold, test in enumerate(subject_folds(p.recs, k, seed)):
        held = {(r.dataset, r.subject) for r, t in zip(p.recs, test.tolist(), strict=True) if t}
        train = np.array([s not in held for s in who])[c.rec]
        tr, te = np.flatnonzero(train), np.flatnonzero(~train & original)
        y, w = labels_and_weights(c, tr)
        keep = _kept(c, tr)
        runs = [
            train_and_score(x[tr][keep], f[tr][keep], y, w, x[te], f[te],
                            1000 * seed + 10 * fold + e, epochs)
            for e in range(ensemble)
        ]  # fmt: skip
        scores[te] = np.mean(runs, axis=0)
    wrist = np.array([r.position == "WRIST" for r in c.recordings])
    keep_recs = (~c.augmented if c.augmented is not None else np.ones(len(wrist), bool)) & wrist
    ranked = wv.ranking(c.subset(keep_recs), scores[keep_recs[c.rec]])
    return {"model": "cnn", "seed": seed, "cv_folds": k, "ensemble": ensemble,
            "epochs": epochs, "ranking": ranked}  # fmt: skip


def _kept(c: cal.Candidates, idx: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which of the candidates ``idx`` :func:`calibrate_falls.training_set` keeps (every
    daily-activity candidate, the largest impact of each fall), in its order."""
    return cal.training_rows(_of(c, idx))[0]


def _of(c: cal.Candidates, idx: NDArray[np.int64]) -> cal.Candidates:
    """The recordings of the candidates ``idx`` (every candidate of each: ``idx`` holds all
    of a recording's or none), as their own set, in the same order."""
    return c.subset(np.isin(np.arange(len(c.recordings)), c.rec[idx]))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: one fold split, the ranking as JSON."""
    ap = wv.cv_parser(__doc__)
    ap.add_argument("--ensemble", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args(argv)
    p = wv.prepare(load(args.data, args.rate, "WRIST"), 6.0, None)
    res = evaluate(p, args.seed, args.cv, args.ensemble, args.epochs)
    wv.print_json(res)


if __name__ == "__main__":
    main()
