"""Station KPIs per station, district and city over a period (``docs/kpi.md``).

- :mod:`hub.kpi.maths` — percentiles and ratios (pure; the SQLite store and the tests use
  the same percentile as PostgreSQL's ``percentile_cont``).
- :mod:`hub.kpi.period` — a period of local calendar days in a time zone (pure).
- :mod:`hub.kpi.metrics` — metric providers: each turns store figures into named values
  per group; the table shows whatever metrics the installed providers give.
- :mod:`hub.kpi.table` — the KPI table of one scope: one row a station or district and a
  total row.
"""
