"""The KPI table of one scope: a station alone, a district's stations side by side with
the district's total, or a city's districts side by side with the city's total.

Who may ask for which scope is the dashboard's business (``dashboard/routers/kpi.py``);
here ``visible`` says which stations count, so a district admin's city view would only add
up the stations they see.

>>> from hub.store.sqlite import SqliteStore
>>> from hub.store.base import City, District, Station
>>> from hub.kpi.period import period
>>> store = SqliteStore(":memory:"); _ = store.migrate()
>>> store.add_city(City("sh", "上海")); store.add_district(District("pd", "sh", "浦东"))
>>> store.add_station(Station("st-1", "pd", "花木站"))
>>> t = kpi_table(store, "district", "pd", period(None, None, "UTC", now=1e9))
>>> [(r.id, r.kind, r.values["alarms.total"]) for r in t.rows]
[('st-1', 'station', 0), ('pd', 'total', 0)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from hub.errors import NotFound
from hub.kpi.metrics import PROVIDERS, Metric, MetricProvider, Value
from hub.kpi.period import Period
from hub.store.base import ALL_GROUPS, KpiGroup, KpiScope, Store

Level = Literal["station", "district", "city"]
LEVELS: tuple[Level, ...] = ("station", "district", "city")


@dataclass(frozen=True, slots=True)
class KpiRow:
    id: str
    name: str
    kind: Literal["station", "district", "total"]
    values: dict[str, Value]


@dataclass(frozen=True, slots=True)
class KpiTable:
    level: Level
    id: str
    name: str
    period: Period
    columns: list[Metric]
    rows: list[KpiRow]


def scope_timezone(store: Store, level: Level, scope_id: str, default: str) -> str:
    """The zone a scope's period is read in: a station's own, else the hub's default."""
    if level == "station":
        return store.get_station(scope_id).timezone or default
    return default


def _members(
    store: Store, level: Level, scope_id: str, visible: Callable[[str], bool]
) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """The scope's name and its rows: (id, name, visible station ids) each."""
    if level == "station":
        st = store.get_station(scope_id)
        if not visible(st.id):
            raise NotFound(f"station {scope_id!r}")
        return st.name, [(st.id, st.name, [st.id])]
    if level == "district":
        district = next((d for d in store.list_districts() if d.id == scope_id), None)
        stations = [s for s in store.list_stations(scope_id) if visible(s.id)]
        if district is None or not stations:
            raise NotFound(f"district {scope_id!r}")
        return district.name, [(s.id, s.name, [s.id]) for s in sorted(stations, key=_id)]
    city = next((c for c in store.list_cities() if c.id == scope_id), None)
    by_district: dict[str, tuple[str, list[str]]] = {
        d.id: (d.name, []) for d in store.list_districts(scope_id)
    }
    for s in store.list_stations():
        if s.district_id in by_district and visible(s.id):
            by_district[s.district_id][1].append(s.id)
    rows = [(d, name, ids) for d, (name, ids) in sorted(by_district.items()) if ids]
    if city is None or not rows:
        raise NotFound(f"city {scope_id!r}")
    return city.name, rows


def _id(s: object) -> str:
    return str(getattr(s, "id", ""))


def kpi_table(
    store: Store, level: Level, scope_id: str, period: Period, *,
    visible: Callable[[str], bool] = lambda _: True,
    providers: Sequence[MetricProvider] = PROVIDERS,
) -> KpiTable:  # fmt: skip
    """Every provider's figures for the scope's rows (and its total, unless a station).
    Raises NotFound when the scope does not exist or has no visible station."""
    name, members = _members(store, level, scope_id, visible)
    stations = sorted({s for _, _, ids in members for s in ids})
    row_group: KpiGroup = "district" if level == "city" else "station"
    scope = KpiScope(stations, period.start, period.measured_end, row_group, level != "station")
    columns: list[Metric] = []
    per_row: dict[str, dict[str, Value]] = {m[0]: {} for m in members}
    total: dict[str, Value] = {}
    for provider in providers:
        figures = provider(store, scope)
        columns += figures.columns
        for row_id, row_values in per_row.items():
            row_values.update(figures.values.get(row_id, {}))
        total |= figures.values.get(ALL_GROUPS, {})
    rows = [KpiRow(i, n, "district" if level == "city" else "station", per_row[i])
            for i, n, _ in members]  # fmt: skip
    if level != "station":
        rows.append(KpiRow(scope_id, name, "total", total))
    return KpiTable(level, scope_id, name, period, columns, [_filled(r, columns) for r in rows])


def _filled(row: KpiRow, columns: list[Metric]) -> KpiRow:
    """Counts a group had none of are 0; other missing values stay None (no data)."""
    values = {m.key: row.values.get(m.key, 0 if m.unit == "count" else None) for m in columns}
    return KpiRow(row.id, row.name, row.kind, values)
