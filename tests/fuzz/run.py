"""One fuzzing run on one back-end, and its summary.

>>> print(summary(Tally("sqlite", inputs=3, seconds=1.5, refused=Counter(json_invalid=3))))
sqlite: 3 inputs in 1.5 s, 2 inputs/s
  accepted                0
  refused                 3  json_invalid 3
  store refused           0  (accepted, then a store_refused dead letter each)
  not stored              0  (duplicates dropped silently, echoes, unchanged retained status)
  store key taken         0  (accepted; the store kept an earlier message's row)
  hub restarts 0, crashes 0, oracle violations 0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from hub.store.base import Store
from hub.store.postgres import to_dt
from tests.fuzz.backends import open_backend
from tests.fuzz.corpus import Corpus
from tests.fuzz.drive import Driver
from tests.fuzz.generate import Case, Generator
from tests.fuzz.oracle import Tally

TS_KEYS: dict[str, Any] = {"sqlite": float, "postgres": to_dt}
"""Device time as the back-end's unique key sees it (PostgreSQL keeps microseconds)."""


def fuzz(
    backend: str, count: int, *, seed: int, batch: int = 1000, corpus: Corpus | None = None,
    pg_url: str | None = None, cases: Iterable[Case] | None = None,
    wrap: Callable[[Store], Store] | None = None, restart_every: int = 25,
) -> Tally:  # fmt: skip
    """Run ``count`` generated cases of stream ``seed`` (or the given ``cases``) through
    ingest and a fresh store of ``backend`` (``wrap``: seen through a wrapper, for tests)."""
    corpus = corpus or Corpus(None)
    with open_backend(backend, pg_url) as (opened, readback):
        store = wrap(opened) if wrap is not None else opened
        driver = Driver(
            backend, store, readback, seed=seed, batch=batch, ts_key=TS_KEYS[backend],
            corpus=corpus, restart_every=restart_every,
        )  # fmt: skip
        if cases is not None:
            return driver.run(cases)
        generator = Generator(seed)
        return driver.run(generator.cases(count), generator.observe)


def _counts(counter: Counter[str]) -> str:
    return " · ".join(f"{k} {n:,}" for k, n in counter.most_common())


def summary(t: Tally) -> str:
    """A few lines a person reads: what was fed, what became of it, what went wrong."""
    rows = [
        ("accepted", t.accepted, ""),
        ("refused", t.refused, "a dead letter each"),
        ("store refused", t.store_refused, "accepted, then a store_refused dead letter each"),
        ("not stored", t.other, "duplicates dropped silently, echoes, unchanged retained status"),
        ("store key taken", t.key_taken, "accepted; the store kept an earlier message's row"),
    ]
    lines = [f"{t.backend}: {t.inputs:,} inputs in {t.seconds:.1f} s, {t.rate:,.0f} inputs/s"]
    for label, counter, meaning in rows:
        detail = _counts(counter) or (f"({meaning})" if meaning else "")
        lines.append(f"  {label:<16}{counter.total():>9,}  {detail}".rstrip())
    lines.append(
        f"  hub restarts {t.restarts:,}, crashes {t.crashes:,}, oracle violations {t.violations:,}"
    )
    lines += [f"    {v}" for v in t.kept]
    return "\n".join(lines)
