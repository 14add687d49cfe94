"""``python -m tests.fuzz``: fuzz ingest and the real stores; exit 1 on a crash or an oracle
violation. ``make fuzz`` runs 10⁶ inputs on both back-ends; see ``--help``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tests.fuzz.backends import BACKENDS
from tests.fuzz.corpus import Corpus, load
from tests.fuzz.run import fuzz, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--count", type=int, default=100_000, help="inputs per back-end")
    parser.add_argument("--backend", default=",".join(BACKENDS), help="sqlite, postgres or both")
    parser.add_argument("--seed", type=int, default=1, help="the input stream (deterministic)")
    parser.add_argument("--batch", type=int, default=1000, help="inputs per committed batch")
    parser.add_argument(
        "--corpus", type=Path, default=Path("fuzz-corpus"),
        help="where crashes are written (one JSON file each)",
    )  # fmt: skip
    parser.add_argument("--replay", type=Path, help="run the inputs of one corpus file instead")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown or not backends:
        parser.error(f"unknown back-end {', '.join(sorted(unknown))}; use {', '.join(BACKENDS)}")
    corpus = Corpus(args.corpus)
    cases = load(args.replay) if args.replay else None
    failed = False
    for backend in backends:
        what = (
            f"replaying {args.replay}"
            if args.replay
            else f"seed {args.seed}, {args.count:,} inputs"
        )
        print(f"fuzzing {backend}: {what} ...", flush=True)
        tally = fuzz(backend, args.count, seed=args.seed, batch=args.batch, corpus=corpus,
                     cases=cases)  # fmt: skip
        print(summary(tally), flush=True)
        failed = failed or bool(tally.crashes or tally.violations)
    if corpus.written:
        print(f"{len(corpus.written)} crash file(s) in {args.corpus}:")
        for sig, n in corpus.signatures.most_common():
            print(f"  {n:>6,}  {sig}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
