"""``python -m bench`` (``make bench``): every benchmark in turn, then the table of every
figure beside its goal. Exits non-zero when a benchmark fails, a goal is missed, or a
figure with a goal was not measured in this run.

Each benchmark runs in its own process (``python -m bench.NAME``), so one that crashes
does not stop the others and none inherits another's memory or threads.
``python -m bench ingest detect`` runs only those.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import table
from bench.common import console

BENCHES = (
    "ingest",
    "mqtt_clients",
    "detect",
    "alerts",
    "ws",
    "rss",
    "provision",
    "login",
    "dispatch",
    "kpi",
    "visits",
)


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        console.print(f"[red]unknown benchmark(s) {unknown}; known: {list(BENCHES)}[/red]")
        return 2
    since = datetime.now(UTC).replace(microsecond=0)
    failed: list[str] = []
    for name in names:
        console.rule(f"bench.{name}")
        start = time.monotonic()
        rc = subprocess.call([sys.executable, "-m", f"bench.{name}"])
        console.print(f"bench.{name}: exit {rc} after {time.monotonic() - start:.0f} s")
        if rc:
            failed.append(name)
    console.rule("all figures")
    args = [] if argv else ["--since", since.isoformat()]
    status = table.main(args)
    if failed:
        console.print(f"[red]benchmarks that exited non-zero: {', '.join(failed)}[/red]")
    return 1 if failed or status else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
