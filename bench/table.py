"""Every figure in ``bench/results.json`` beside its goal: name | figure | goal | met | n.

``python -m bench.table`` prints the table and exits non-zero when a goal is missed or a
figure with a goal rests on too few runs or samples. ``--since ISO-TIME`` also fails
figures with a goal that were not measured since then (a benchmark that crashed leaves
its last figures behind); ``--markdown`` prints the table and the machine for a README;
``--readme FILE`` rewrites that part of FILE, between ``<!-- bench:start -->`` and
``<!-- bench:end -->``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import RESULTS, RUNS, Figure, console, goal_table, verdict
from bench.goals import SPECS, fmt

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass(frozen=True, slots=True)
class Row:
    """A stored figure with what runs.json says of it (``n`` None: not noted)."""

    figure: Figure
    n: int | None
    measured_at: datetime | None
    cpu: str | None = None


def load(results: Path = RESULTS, runs: Path = RUNS) -> tuple[list[Row], dict[str, Any]]:
    """The stored figures in the order of ``bench/goals.py``, and the machine."""
    data = json.loads(results.read_text(encoding="utf-8")) if results.exists() else {}
    meta = json.loads(runs.read_text(encoding="utf-8")) if runs.exists() else {}
    noted = meta.get("figures", {})
    rows = []
    for key in [k for k in SPECS if k in data] + sorted(k for k in data if k not in SPECS):
        info = noted.get(key, {})
        at = info.get("measured_at")
        rows.append(Row(Figure(key, float(data[key]), int(info.get("n", 0))), info.get("n"),
                        datetime.fromisoformat(at) if at else None,
                        info.get("cpu")))  # fmt: skip
    return rows, meta.get("machine", {})


def failures(rows: Sequence[Row], since: datetime | None = None) -> list[str]:
    """Why the table fails: one line per figure that does; empty when every goal is met.

    Figures without a goal never fail here (references, and the load search, which is not
    part of ``make bench``); a figure with a goal fails when missed, when it rests on too
    few runs or samples (or runs.json does not say), and, with ``since``, when it is older.
    """
    out = []
    for row in rows:
        f = row.figure
        if f.key not in SPECS:
            out.append(f"{f.key}: unknown figure (add it to bench/goals.py)")
            continue
        if SPECS[f.key].goal is None:
            continue
        v = verdict(f)
        if row.n is None:
            out.append(f"{f.key}: runs.json does not say how it was measured")
        elif not v.ok:
            out.append(f"{f.key}: {v.text}")
        if since is not None and (row.measured_at is None or row.measured_at < since):
            out.append(f"{f.key}: not measured in this run")
    return out


def stale(rows: Sequence[Row], since: datetime | None) -> frozenset[str]:
    if since is None:
        return frozenset()
    return frozenset(r.figure.key for r in rows if r.measured_at is None or r.measured_at < since)


def describe(m: dict[str, Any]) -> str:
    """The machine in one line (no host name)."""
    if not m:
        return "machine not recorded"
    return (f"{m['cores']} cores ({m['cpu']}), {m['ram_gib']:g} GiB RAM, {m['system']}, "
            f"Python {m['python']}")  # fmt: skip


def markdown(rows: Sequence[Row], m: dict[str, Any]) -> str:
    """The table in Markdown, with the machine and the latest measurement date."""
    lines = ["| figure | value | goal | met | rests on |",
             "| --- | ---: | --- | --- | ---: |"]  # fmt: skip
    unnoted = False
    for row in rows:
        f = row.figure
        s = SPECS.get(f.key)
        unit = s.unit if s else ""
        goal = s.goal_text if s else "—"
        if s is None or row.n is None:
            unnoted = True
            met, n = "?", "?"
        else:
            met = verdict(f).text
            what = {"percentile": "samples", "median": "runs", "peak": "readings"}
            n = f"{row.n:,} {what.get(s.kind, 'run')}"
        lines.append(f"| `{f.key}` | {fmt(f.value, unit)} | {goal} | {met} | {n} |")
    dates = [r.measured_at for r in rows if r.measured_at is not None]
    when = max(dates).strftime("%Y-%m-%d") if dates else "unknown"
    lines += ["", f"Measured with `make bench` on {when}: {describe(m)}; the machine was shared "
              "with other work while it ran."]  # fmt: skip
    others: dict[str, list[str]] = {}
    for row in rows:
        if row.cpu and m and row.cpu != m.get("cpu"):
            others.setdefault(row.cpu, []).append(f"`{row.figure.key}`")
    for cpu, keys in others.items():
        lines[-1] += f" Measured on another machine ({cpu}): {', '.join(keys)}."
    if unnoted:
        lines[-1] += (" Figures marked ? come from an earlier run that did not note how"
                      " they were measured.")  # fmt: skip
    return "\n".join(lines) + "\n"


def rewrite(readme: Path, text: str) -> None:
    """Put ``text`` between the markers in ``readme``."""
    body = readme.read_text(encoding="utf-8")
    head, found, rest = body.partition(START)
    _, found_end, tail = rest.partition(END)
    if not found or not found_end:
        raise SystemExit(f"{readme.name} has no {START} ... {END} section")
    readme.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--since", type=datetime.fromisoformat, default=None)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--readme", type=Path, default=None)
    args = ap.parse_args(argv)
    rows, m = load()
    if args.readme is not None:
        rewrite(args.readme, markdown(rows, m))
    if args.markdown:
        print(markdown(rows, m), end="")
    else:
        unnoted = frozenset(r.figure.key for r in rows if r.n is None)
        console.print(goal_table("carehub benchmarks", [r.figure for r in rows],
                                 stale(rows, args.since), unnoted))  # fmt: skip
        console.print(describe(m))
    problems = failures(rows, args.since)
    for line in problems:
        console.print(f"[red]{line}[/red]")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
