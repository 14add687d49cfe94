"""KPI aggregates of both stores against a hand-counted data set (tests/helpers/kpi_data),
and the two back-ends against each other."""

from __future__ import annotations

import pytest

from hub.store.base import AlertFigures, Durations, KpiScope, Store, UptimeFigures
from tests.helpers import kpi_data as k

PD = ["st-1", "st-2"]
ALL3 = ["st-1", "st-2", "st-3"]

# worked out by hand from tests/helpers/kpi_data.py
ST1 = AlertFigures(
    opened=4,
    by_kind={"fall": 2, "sos": 1, "vitals": 1},
    by_outcome={"real_emergency": 1, "false_alarm": 2, "self_cleared": 1},
    ack=Durations(3, 60.0, 60.0 + 0.8 * 30.0),  # 30 60 90: p90 at rank 1.8
    resolve=Durations(3, 600.0, 600.0 + 0.8 * 300.0),  # 300 600 900; self-cleared left out
)
ST2 = AlertFigures(2, {"sos": 1, "device_offline": 1}, {}, Durations(1, 120.0, 120.0))
PD_ALL = AlertFigures(
    6, {"fall": 2, "sos": 2, "vitals": 1, "device_offline": 1}, ST1.by_outcome,
    Durations(4, 60.0 + 0.5 * 30.0, 90.0 + 0.7 * 30.0),  # 30 60 90 120: ranks 1.5 and 2.7
    ST1.resolve,
)  # fmt: skip
XH = AlertFigures(1, {"fall": 1}, {"test": 1}, Durations(1, 10.0, 10.0), Durations(1, 20.0, 20.0))


@pytest.fixture
def kpi_store(store: Store) -> Store:
    k.populate(store)
    return store


def _approx(f: AlertFigures) -> AlertFigures:
    return AlertFigures(f.opened, f.by_kind, f.by_outcome,
                        Durations(f.ack.n, pytest.approx(f.ack.p50), pytest.approx(f.ack.p90)),
                        Durations(f.resolve.n, pytest.approx(f.resolve.p50),
                                  pytest.approx(f.resolve.p90)))  # type: ignore[arg-type]  # fmt: skip


def test_alert_figures_per_station(kpi_store: Store) -> None:
    got = kpi_store.kpi_alerts(KpiScope(ALL3, k.START, k.END, "station"))
    assert got == {"st-1": _approx(ST1), "st-2": _approx(ST2), "st-3": _approx(XH)}


def test_alert_figures_per_district_and_total(kpi_store: Store) -> None:
    assert kpi_store.kpi_alerts(KpiScope(ALL3, k.START, k.END, "district")) == {
        "pd": _approx(PD_ALL), "xh": _approx(XH)}  # fmt: skip
    assert kpi_store.kpi_alerts(KpiScope(PD, k.START, k.END, "all")) == {"*": _approx(PD_ALL)}


def test_only_the_stations_asked_for_and_the_period(kpi_store: Store) -> None:
    assert kpi_store.kpi_alerts(KpiScope(["st-2"], k.START, k.END, "district")) == {
        "pd": _approx(ST2)
    }
    assert kpi_store.kpi_alerts(KpiScope([], k.START, k.END, "all")) == {}
    # the period is half-open: an alert opened at its end is left for the next one
    got = kpi_store.kpi_alerts(KpiScope(["st-3"], k.END, k.END + 1.0, "station"))
    assert got["st-3"].by_kind == {"fall": 1}


def test_uptime(kpi_store: Store) -> None:
    got = kpi_store.kpi_uptime(KpiScope(ALL3, k.UP_START, k.UP_END, "station"))
    assert got == {
        "st-1": UptimeFigures(pytest.approx(500.0 + 600.0), pytest.approx(1600.0), 2),  # type: ignore[arg-type]
        "st-2": UptimeFigures(0.0, pytest.approx(1000.0), 1),  # type: ignore[arg-type]
        "st-3": UptimeFigures(pytest.approx(1000.0), pytest.approx(1000.0), 1),  # type: ignore[arg-type]
    }
    [(group, total)] = kpi_store.kpi_uptime(KpiScope(PD, k.UP_START, k.UP_END, "all")).items()
    assert (group, total.online_s, total.known_s, total.devices) == ("*", 1100.0, 2600.0, 3)


def test_uptime_of_a_period_before_any_status_is_empty(kpi_store: Store) -> None:
    assert kpi_store.kpi_uptime(KpiScope(ALL3, k.T0 - 5_000.0, k.T0 - 4_000.0, "all")) == {}


@pytest.mark.postgres
def test_both_back_ends_give_identical_figures(sqlite_store: Store, pg_store: Store) -> None:
    k.populate(sqlite_store)
    k.populate(pg_store)
    for by in ("station", "district", "all"):
        scope = KpiScope(ALL3, k.START, k.END, by, total=True)  # type: ignore[arg-type]
        lite, pg = sqlite_store.kpi_alerts(scope), pg_store.kpi_alerts(scope)
        assert lite == pg, by  # exact: the same floats, the same percentile arithmetic
        up = KpiScope(ALL3, k.UP_START, k.UP_END, by)  # type: ignore[arg-type]
        assert sqlite_store.kpi_uptime(up) == pg_store.kpi_uptime(up), by


def test_the_total_comes_in_the_same_pass(kpi_store: Store) -> None:
    got = kpi_store.kpi_alerts(KpiScope(PD, k.START, k.END, "station", total=True))
    assert got == {"st-1": _approx(ST1), "st-2": _approx(ST2), "*": _approx(PD_ALL)}
    assert kpi_store.kpi_alerts(KpiScope(PD, k.START, k.END, "all", total=True)) == {
        "*": _approx(PD_ALL)
    }
