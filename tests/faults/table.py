"""Print the fault table that ``make faults`` collected (one JSON object per line).

Run: ``python -m tests.faults.table bench/faults.jsonl``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = (
    ("fault", "fault"), ("injected", "faults"), ("expected", "alarms expected"),
    ("alerted", "alerted"), ("lost", "lost"), ("duplicated", "duplicated"),
    ("false_alerts", "false alerts"), ("telemetry_expected", "QoS 1 readings"),
    ("telemetry_lost", "readings lost"), ("recovered", "recovered by itself"),
)  # fmt: skip


def table(rows: list[dict[str, object]]) -> str:
    """A Markdown table of the rows."""
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |",
             "|" + " --- |" * len(COLUMNS)]  # fmt: skip
    for row in rows:
        cells = ["yes" if row[k] is True else "no" if row[k] is False else str(row[k])
                 for k, _ in COLUMNS]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "bench/faults.jsonl")
    if not path.exists():
        print(f"{path}: no fault table (run `make faults`)", file=sys.stderr)
        return 1
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
