"""Shared pieces of the benchmarks: runs and medians, figures checked against their goals,
the results files, throwaway services.

Benchmarks measure a candidate and its peer side by side in one run, alternating, and
report medians and ratios, because this machine is shared and noisy: absolute rates vary
from run to run, ratios much less. Each benchmark ends with :func:`report`, which merges
its figures into ``bench/results.json`` (key → number, the keys earlier issues named),
notes how each was measured in ``bench/runs.json`` (runs or samples behind it, when, on
what machine), prints each figure beside its goal, and gives the exit status: non-zero
when a goal is missed or a figure rests on too few runs or samples.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.goals import Spec, fmt, spec

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
RUNS = HERE / "runs.json"
console = Console(width=None if os.isatty(1) else 120)


@dataclass(frozen=True, slots=True)
class Figure:
    """A measured figure: ``n`` is the runs behind a median, the readings behind a peak, or
    the samples behind a percentile."""

    key: str
    value: float
    n: int

    @property
    def spec(self) -> Spec:
        return spec(self.key)


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a figure fares: ``ok`` is False for a missed goal or too few runs/samples."""

    text: str
    ok: bool


def verdict(fig: Figure) -> Verdict:
    """Too few runs or samples first (the figure means nothing), then the goal.

    >>> verdict(Figure("ingest_vs_paho", 0.8, 5))
    Verdict(text='met', ok=True)
    >>> verdict(Figure("sos_to_ws_p99_ms", 38.0, 60))
    Verdict(text='no: 60 samples < 1000', ok=False)
    >>> verdict(Figure("paho_msgs_per_s", 20000, 5))
    Verdict(text='reference', ok=True)
    """
    s = fig.spec
    if fig.n < s.minimum:
        what = {"percentile": "samples", "peak": "readings"}.get(s.kind, "runs")
        return Verdict(f"no: {fig.n} {what} < {s.minimum}", False)
    if s.goal is None:
        return Verdict("reference", True)
    return Verdict("met", True) if s.goal.met(fig.value) else Verdict("MISSED", False)


def exit_status(figures: Iterable[Figure]) -> int:
    """0 when every figure is ok, 1 otherwise (what a benchmark exits with)."""
    return 0 if all(verdict(f).ok for f in figures) else 1


# --- running and summarising ---------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median; refuses an empty list rather than inventing a figure.

    >>> median([3.0, 1.0, 2.0, 10.0, 4.0])
    3.0
    """
    if not values:
        raise ValueError("no runs to take a median of")
    return float(statistics.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile by linear interpolation (numpy's default).

    >>> percentile(list(range(101)), 99)
    99.0
    """
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def alternate(runs: int, *sides: Callable[[], float]) -> list[list[float]]:
    """Call each side once per round, in turn, ``runs`` rounds; the values per side.

    Alternating keeps a burst of load elsewhere on the machine from landing on one side.

    >>> calls = []
    >>> alternate(2, lambda: calls.append("a") or 1.0, lambda: calls.append("b") or 2.0)
    [[1.0, 1.0], [2.0, 2.0]]
    >>> calls
    ['a', 'b', 'a', 'b']
    """
    out: list[list[float]] = [[] for _ in sides]
    for _ in range(runs):
        for values, side in zip(out, sides, strict=True):
            values.append(side())
    return out


# --- results files ---------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were measured on (no host name): cores, CPU model, memory."""
    model, mem_kb = platform.processor() or platform.machine(), 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {"cores": os.cpu_count() or 0, "cpu": model, "ram_gib": round(mem_kb / 2**20, 1),
            "system": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version()}  # fmt: skip


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")  # fmt: skip


def _plain(value: float) -> float | int:
    """As results.json keeps it: integers for large figures, 3 significant decimals else."""
    return round(value) if abs(value) >= 1000 else round(value, 3)


def record(
    figures: Sequence[Figure], *, results: Path | None = None, runs: Path | None = None
) -> None:
    """Merge ``figures`` into results.json (other benchmarks' keys are kept) and note in
    runs.json how and when each was measured, and on what machine."""
    results, runs = results or RESULTS, runs or RUNS
    data, meta = _load(results), _load(runs)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    per_key = meta.setdefault("figures", {})
    here = machine()
    for f in figures:
        data[f.key] = _plain(f.value)
        # the processor per figure: benchmarks run one at a time may run on different machines
        per_key[f.key] = {"n": f.n, "measured_at": now, "cpu": here["cpu"]}
    meta["machine"] = here
    _dump(results, data)
    _dump(runs, meta)


def show(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """Side rows of a benchmark (its peers, its conditions) as a two-column table."""
    table = Table("measure", "value", title=title)
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def goal_table(
    title: str,
    figures: Sequence[Figure],
    stale: frozenset[str] = frozenset(),
    unnoted: frozenset[str] = frozenset(),
) -> Table:
    """name | figure | goal | met | n: the table every benchmark and ``bench.table`` print.

    ``stale``: figures not measured in this run; ``unnoted``: figures whose runs were never
    noted (measured before ``bench/runs.json`` existed)."""
    table = Table("figure", "value", "goal", "met", "n", title=title)
    for f in figures:
        s, v = f.spec, verdict(f)
        if f.key in unnoted:
            v = Verdict("n not noted", s.goal is None)
        met = "not measured in this run" if f.key in stale else v.text
        style = "red" if (not v.ok or f.key in stale) else ("green" if s.goal else "")
        what = {"percentile": "samples", "median": "runs", "peak": "readings"}.get(s.kind, "")
        table.add_row(f.key, fmt(f.value, s.unit), s.goal_text,
                      f"[{style}]{met}[/{style}]" if style else met,
                      "?" if f.key in unnoted else f"{f.n:,} {what}".strip())  # fmt: skip
    return table


def report(title: str, figures: Sequence[Figure], notes: Sequence[tuple[str, str]] = ()) -> int:
    """Record ``figures``, print the side notes and the goal table; the exit status."""
    record(figures)
    if notes:
        show(title, notes)
    console.print(goal_table(title, figures))
    status = exit_status(figures)
    if status:
        console.print("[red]a goal is missed or a figure rests on too few runs[/red]")
    return status


# --- throwaway services ----------------------------------------------------------------------


@contextlib.contextmanager
def mosquitto() -> Iterator[str]:
    """A throwaway Mosquitto on a free port; yields its URL."""
    from hub.broker.embedded import free_port
    from tests.fixtures.brokers import MosquittoProcess, _find_mosquitto

    binary = _find_mosquitto()
    if binary is None:
        raise SystemExit("mosquitto is not installed: run `make system-deps`")
    with tempfile.TemporaryDirectory() as tmp:
        proc = MosquittoProcess(binary, Path(tmp), free_port())
        proc.start()
        try:
            yield proc.url
        finally:
            proc.stop()


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A throwaway database on the PostgreSQL named by CAREHUB_TEST_PG_URL."""
    import psycopg
    from psycopg import sql

    admin = os.environ.get("CAREHUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"carehub_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def elapsed(fn: Callable[[], object]) -> float:
    """Wall-clock seconds ``fn()`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
