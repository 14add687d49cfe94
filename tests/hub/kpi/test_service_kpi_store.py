"""Service KPI aggregates of both stores against a hand-counted data set
(tests/helpers/service_kpi_data.py on top of tests/helpers/kpi_data.py), the two back-ends
against each other, and the KPI table's new columns."""

from __future__ import annotations

import pytest

from hub.kpi.period import period
from hub.kpi.service_metrics import ORDER_GRACE_S
from hub.kpi.table import kpi_table
from hub.store.base import Durations, KpiScope, OnTimeFigures, RatingFigures, Store
from tests.helpers import kpi_data as k
from tests.helpers import service_kpi_data as s

ALL3 = ["st-1", "st-2", "st-3"]
PD = ["st-1", "st-2"]

# worked out by hand from the comments in tests/helpers/service_kpi_data.py
ARRIVALS = {
    "st-1": Durations(2, 900.0, 600.0 + 0.9 * 600.0),  # 600 1,200: rank 0.5 and 0.9
    "st-2": Durations(1, 900.0, 900.0),
    "st-3": Durations(1, 1_800.0, 1_800.0),
}
PD_ARRIVALS = Durations(3, 900.0, 900.0 + 0.8 * 300.0)  # 600 900 1,200: ranks 1 and 1.8
CITY_ARRIVALS = Durations(4, 900.0 + 0.5 * 300.0, 1_200.0 + 0.7 * 600.0)  # ranks 1.5, 2.7
ORDERS = {"st-1": OnTimeFigures(5, 3), "st-2": OnTimeFigures(2, 1), "st-3": OnTimeFigures(2, 0)}
VISITS = {"st-1": OnTimeFigures(3, 1), "st-2": OnTimeFigures(1, 1), "st-3": OnTimeFigures(1, 0)}
RATINGS = {"st-1": RatingFigures(3, 11), "st-2": RatingFigures(1, 1), "st-3": RatingFigures(1, 5)}


@pytest.fixture
def kpi_store(store: Store) -> Store:
    k.populate(store)
    s.populate(store)
    return store


def _approx(d: Durations) -> Durations:
    return Durations(d.n, pytest.approx(d.p50), pytest.approx(d.p90))  # type: ignore[arg-type]


def test_time_to_arrive(kpi_store: Store) -> None:
    got = kpi_store.kpi_arrivals(KpiScope(ALL3, k.START, k.END, "station"))
    assert got == {g: _approx(d) for g, d in ARRIVALS.items()}
    got = kpi_store.kpi_arrivals(KpiScope(ALL3, k.START, k.END, "district", total=True))
    assert got == {"pd": _approx(PD_ARRIVALS), "xh": _approx(ARRIVALS["st-3"]),
                   "*": _approx(CITY_ARRIVALS)}  # fmt: skip
    assert kpi_store.kpi_arrivals(KpiScope(PD, k.START, k.END, "all")) == {
        "*": _approx(PD_ARRIVALS)
    }
    assert kpi_store.kpi_arrivals(KpiScope([], k.START, k.END, "all")) == {}


def test_orders_on_time(kpi_store: Store) -> None:
    assert (
        kpi_store.kpi_orders_on_time(KpiScope(ALL3, k.START, k.END, "station"), s.GRACE) == ORDERS
    )
    assert kpi_store.kpi_orders_on_time(KpiScope(ALL3, k.START, k.END, "district"), s.GRACE) == {
        "pd": OnTimeFigures(7, 4), "xh": OnTimeFigures(2, 0)}  # fmt: skip
    # without grace: b1 (done 60 min after its 45 min visit began) is late, m4 falls due
    # before the period, and m3 (due 30 min before its end) comes into it, done in time
    no_grace = kpi_store.kpi_orders_on_time(KpiScope(["st-2"], k.START, k.END, "station"), 0.0)
    assert no_grace == {"st-2": OnTimeFigures(2, 1)}


def test_visits_on_schedule(kpi_store: Store) -> None:
    assert kpi_store.kpi_visits_on_schedule(KpiScope(ALL3, k.START, k.END, "station")) == VISITS
    assert kpi_store.kpi_visits_on_schedule(KpiScope(ALL3, k.START, k.END, "all")) == {
        "*": OnTimeFigures(5, 2)}  # fmt: skip


def test_ratings(kpi_store: Store) -> None:
    assert kpi_store.kpi_ratings(KpiScope(ALL3, k.START, k.END, "station")) == RATINGS
    assert kpi_store.kpi_ratings(KpiScope(PD, k.START, k.END, "district")) == {
        "pd": RatingFigures(4, 12)
    }


def test_the_table_shows_every_service_column(kpi_store: Store) -> None:
    when = period("2026-01-01", "2026-01-10", "UTC", now=k.END + 1.0)
    assert ORDER_GRACE_S == s.GRACE
    t = kpi_table(kpi_store, "city", "sh", when)
    keys = [c.key for c in t.columns]
    for key in ("arrive.n", "arrive.p50_s", "arrive.p90_s", "orders.due", "orders.on_time",
                "orders.on_time_ratio", "visits.due", "visits.on_time", "visits.on_time_ratio",
                "rating.n", "rating.avg"):  # fmt: skip
        assert key in keys
    pd, xh, city = t.rows
    assert (pd.id, xh.id, city.kind) == ("pd", "xh", "total")
    assert pd.values["arrive.p90_s"] == pytest.approx(PD_ARRIVALS.p90)
    assert (pd.values["orders.due"], pd.values["orders.on_time_ratio"]) == (7, 4 / 7)
    assert (xh.values["visits.due"], xh.values["visits.on_time_ratio"]) == (1, 0.0)
    assert (city.values["rating.n"], city.values["rating.avg"]) == (5, 17 / 5)
    assert city.values["visits.on_time_ratio"] == 2 / 5
    assert city.values["arrive.p50_s"] == pytest.approx(CITY_ARRIVALS.p50)


def test_nothing_due_is_no_data_not_zero(kpi_store: Store) -> None:
    when = period("2025-06-01", "2025-06-30", "UTC", now=k.END)
    [row] = kpi_table(kpi_store, "station", "st-1", when).rows
    assert (row.values["orders.due"], row.values["orders.on_time_ratio"]) == (0, None)
    assert (row.values["rating.n"], row.values["rating.avg"]) == (0, None)
    assert row.values["arrive.p50_s"] is None


@pytest.mark.postgres
def test_both_back_ends_give_identical_figures(sqlite_store: Store, pg_store: Store) -> None:
    for st in (sqlite_store, pg_store):
        k.populate(st)
        s.populate(st)
    for by in ("station", "district", "all"):
        scope = KpiScope(ALL3, k.START, k.END, by, total=True)  # type: ignore[arg-type]
        lite, pg = sqlite_store, pg_store
        assert lite.kpi_arrivals(scope) == pg.kpi_arrivals(scope), by
        assert lite.kpi_orders_on_time(scope, s.GRACE) == pg.kpi_orders_on_time(scope, s.GRACE)
        assert lite.kpi_visits_on_schedule(scope) == pg.kpi_visits_on_schedule(scope)
        assert lite.kpi_ratings(scope) == pg.kpi_ratings(scope)
