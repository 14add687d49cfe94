"""The KPI table as CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel reads
Chinese names correctly), headers in the caller's language, one row a station or district
and the total last. Seconds are written with one decimal, ratios as percentages, average
ratings with two decimals.

>>> from hub.kpi.metrics import Metric
>>> from hub.kpi.table import KpiRow
>>> cols = [Metric("ack.p50_s", "seconds", "kpi.ack_p50")]
>>> out = kpi_csv(cols, [KpiRow("st-1", "花木站", "station", {"ack.p50_s": 62.25})], "en")
>>> out[:1] == "\\ufeff", out[1:].splitlines()[1]
(True, 'st-1,花木站,Station,62.2')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from dashboard.messages import text
from hub.kpi.metrics import Metric, Value
from hub.kpi.table import KpiRow

BOM = "\ufeff"
UNITS = {"seconds": "kpi.unit_seconds", "ratio": "kpi.unit_percent",
         "score": "kpi.unit_score", "count": None}  # fmt: skip


def header(m: Metric, language: str) -> str:
    """A column's header: "Alarms: Fall", "Time to acknowledge, p50 (s)"."""
    label = text(m.label, language)
    if m.section:
        label = f"{text(m.section, language)}: {label}"
    unit = UNITS[m.unit]
    return f"{label} ({text(unit, language)})" if unit else label


def cell(value: Value, unit: str) -> str:
    if value is None:
        return ""
    if unit == "ratio":
        return f"{value * 100:.1f}"
    if unit == "seconds":
        return f"{value:.1f}"
    if unit == "score":
        return f"{value:.2f}"
    return str(value)


def kpi_csv(columns: Sequence[Metric], rows: Sequence[KpiRow], language: str) -> str:
    """The whole CSV document (text, the BOM first)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    fixed = [text(f"kpi.col_{c}", language) for c in ("id", "name", "kind")]
    w.writerow([*fixed, *(header(m, language) for m in columns)])
    for r in rows:
        values = [cell(r.values.get(m.key), m.unit) for m in columns]
        w.writerow([r.id, r.name, text(f"kpi.row_{r.kind}", language), *values])
    return BOM + out.getvalue()
