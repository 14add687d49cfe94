"""Station KPIs over a year of history: 50 stations in 10 districts of one city.

``kpi_city_year_s``: seconds for the city's KPI table over a year (one row a district and
the city's total: every alert of the year by kind and outcome, p50/p90 times to acknowledge
and resolve, and device uptime from the status history), as the dashboard's
``GET /api/kpi`` builds it (:func:`hub.kpi.table.kpi_table`). ``kpi_district_year_s``: the
same for one district (its five stations side by side and its total). Goal for the city:
under 2 s (issue 17's figure; a page that takes longer is not used). The city's table
without the service columns (alarms and uptime only) is timed in the same rounds, so their
share is measured side by side.

The history is synthetic and written with COPY into a throwaway PostgreSQL database:
200 residents a station (10,000), a wearable and a home gateway each (20,000 devices), 1.5
alerts a resident a month (180,000 alerts: kinds, acknowledgement and resolution times and
outcomes drawn from fixed distributions with a seed), devices dropping off and back
about twice a month (960,000 status changes), and the community services of
:mod:`bench.kpi_services` (an emergency visit after every fall and SOS, meal deliveries,
weekly or monthly visits, ratings), so the table has every KPI column. Medians of
``--runs`` runs (at least 5), the two queries alternating.

Run: ``python -m bench.kpi`` (about a minute, most of it writing the history).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import psycopg

from bench import kpi_services
from bench.common import Figure, alternate, median, pg_database, report
from hub.kpi.metrics import alert_metrics, uptime_metrics
from hub.kpi.period import period
from hub.kpi.table import kpi_table
from hub.store import open_store
from hub.store.base import City, District, Station, Store

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
YEAR_S = 365 * 86_400.0
KINDS = ("fall", "sos", "vitals", "inactivity", "device_offline", "low_battery", "not_up")
KIND_P = (0.10, 0.10, 0.25, 0.15, 0.20, 0.15, 0.05)
OUTCOMES = ("real_emergency", "handled_by_phone", "false_alarm", "device_fault", "test",
            "self_cleared")  # fmt: skip
OUTCOME_P = (0.10, 0.35, 0.20, 0.05, 0.02, 0.28)


def _registry(store: Store, districts: int, stations: int) -> list[str]:
    store.add_city(City("sh", "上海市"))
    ids = []
    for d in range(districts):
        store.add_district(District(f"d-{d:02d}", "sh", f"区{d:02d}"))
    for s in range(stations):
        sid = f"st-{s:03d}"
        store.add_station(Station(sid, f"d-{s % districts:02d}", f"养老服务站{s:03d}"))
        ids.append(sid)
    return ids


def _alert_rows(rng: np.random.Generator, residents: list[tuple[str, str]], per_month: float
                ) -> Iterator[tuple[object, ...]]:  # fmt: skip
    n = int(len(residents) * per_month * 12)
    who = rng.integers(0, len(residents), n)
    opened = YEAR_START + np.sort(rng.uniform(0, YEAR_S, n))
    kinds = rng.choice(len(KINDS), n, p=KIND_P)
    outcomes = rng.choice(len(OUTCOMES), n, p=OUTCOME_P)
    ack = rng.lognormal(np.log(45.0), 0.8, n)
    resolve = ack + rng.lognormal(np.log(900.0), 1.0, n)
    for i in range(n):
        rid, sid = residents[who[i]]
        t0 = float(opened[i])
        outcome = OUTCOMES[outcomes[i]]
        acked = None if outcome == "self_cleared" else t0 + float(ack[i])
        resolved = t0 + float(resolve[i])
        data = {"id": f"al-{i}", "kind": KINDS[kinds[i]], "opened_at": t0, "acked_at": acked,
                "resolved_at": resolved, "outcome": outcome, "state": "resolved",
                "resident_id": rid, "station_id": sid}  # fmt: skip
        yield (f"al-{i}", KINDS[kinds[i]], "resolved", "high", "clinical", rid, sid,
               datetime.fromtimestamp(t0, UTC), datetime.fromtimestamp(resolved, UTC),
               json.dumps(data))  # fmt: skip


def _status_rows(rng: np.random.Generator, devices: list[str], per_month: float
                 ) -> Iterator[tuple[object, ...]]:  # fmt: skip
    for d in devices:
        k = int(rng.poisson(per_month * 12))
        downs = np.sort(rng.uniform(0, YEAR_S, k))
        yield (d, True, datetime.fromtimestamp(YEAR_START - 3600.0, UTC), "birth")
        for t in downs:
            at = YEAR_START + float(t)
            yield (d, False, datetime.fromtimestamp(at, UTC), "will")
            back = at + float(rng.exponential(1800.0))
            yield (d, True, datetime.fromtimestamp(back, UTC), "birth")


def generate(url: str, *, districts: int, stations: int, residents: int, seed: int = 17
             ) -> dict[str, int]:  # fmt: skip
    """Write the history; return how many rows of each kind."""
    rng = np.random.default_rng(seed)
    store = open_store(url)
    sids = _registry(store, districts, stations)
    store.close()
    people = [(f"r-{s}-{i:03d}", s) for s in sids for i in range(residents)]
    devices = [f"{kind}-{rid}" for rid, _ in people for kind in ("w", "gw")]
    counts = {"residents": len(people), "devices": len(devices)}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY residents (id, station_id, name) FROM STDIN") as cp:
            for rid, sid in people:
                cp.write_row((rid, sid, f"居民{rid}"))
        with cur.copy("COPY devices (id, kind, resident_id, created_at) FROM STDIN") as cp:
            for d in devices:
                cp.write_row((d, "wearable" if d[0] == "w" else "gateway", d.split("-", 1)[1],
                              datetime.fromtimestamp(YEAR_START - 86_400.0, UTC)))  # fmt: skip
        columns = ("id, kind, state, priority, category, resident_id, station_id, opened_at,"
                   " updated_at, data")  # fmt: skip
        counts["alerts"] = 0
        emergencies: list[tuple[str, str, str, float]] = []
        with cur.copy(f"COPY alerts ({columns}) FROM STDIN") as cp:
            for row in _alert_rows(rng, people, 1.5):
                cp.write_row(row)
                counts["alerts"] += 1
                if row[1] in kpi_services.EMERGENCY_KINDS:
                    opened = row[7].timestamp()  # type: ignore[attr-defined]
                    emergencies.append((str(row[0]), str(row[5]), str(row[6]), opened))
        counts |= kpi_services.write(cur, rng, sids, people, emergencies, YEAR_START, YEAR_S)
        counts["status"] = 0
        with cur.copy("COPY status_log (device_id, online, at, source) FROM STDIN") as cp:
            for row in _status_rows(rng, devices, 2.0):
                cp.write_row(row)
                counts["status"] += 1
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return counts


def measure(url: str, runs: int) -> dict[str, list[float]]:
    store = open_store(url)
    # the history is a UTC year; a local year would cut its first or last hours
    year = period("2025-01-01", "2025-12-31", "UTC", now=YEAR_START + 2 * YEAR_S)
    rows = {}

    def city() -> float:
        start = time.perf_counter()
        rows["city"] = kpi_table(store, "city", "sh", year).rows
        return time.perf_counter() - start

    def district() -> float:
        start = time.perf_counter()
        rows["district"] = kpi_table(store, "district", "d-00", year).rows
        return time.perf_counter() - start

    def city_base() -> float:  # the alarm and uptime columns alone, for the services' share
        start = time.perf_counter()
        kpi_table(store, "city", "sh", year, providers=(alert_metrics, uptime_metrics))
        return time.perf_counter() - start

    city_s, district_s, base_s = alternate(runs, city, district, city_base)
    store.close()
    total = rows["city"][-1].values
    return {"city": city_s, "district": district_s, "city_base": base_s,
            "alarms": [float(total["alarms.total"] or 0)],
            "uptime": [float(total["uptime.ratio"] or 0)],
            "orders_due": [float(total["orders.due"] or 0)],
            "visits_due": [float(total["visits.due"] or 0)],
            "ratings": [float(total["rating.n"] or 0)],
            "arrivals": [float(total["arrive.n"] or 0)]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=50)
    ap.add_argument("--districts", type=int, default=10)
    ap.add_argument("--residents", type=int, default=200, help="a station")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with pg_database() as url:
        store = open_store(url)
        store.migrate()
        store.close()
        start = time.perf_counter()
        counts = generate(url, districts=args.districts, stations=args.stations,
                          residents=args.residents)  # fmt: skip
        took = time.perf_counter() - start
        m = measure(url, args.runs)
    if int(m["alarms"][0]) != counts["alerts"]:
        raise SystemExit(f"the city's total counts {m['alarms'][0]} of {counts['alerts']} alerts")
    raise SystemExit(report(f"KPIs over a year, {args.stations} stations (PostgreSQL)", [
        Figure("kpi_city_year_s", median(m["city"]), len(m["city"])),
        Figure("kpi_district_year_s", median(m["district"]), len(m["district"])),
    ], [
        ("history", f"{counts['residents']:,} residents, {counts['devices']:,} devices, "
                    f"{counts['alerts']:,} alerts, {counts['status']:,} status changes"),
        ("services", f"{counts['orders']:,} orders ({counts['order_events']:,} steps), "
                     f"{counts['visit_tasks']:,} visit tasks, {counts['ratings']:,} ratings"),
        ("of the year, counted", f"{m['arrivals'][0]:,.0f} arrivals, "
                                 f"{m['orders_due'][0]:,.0f} orders due, "
                                 f"{m['visits_due'][0]:,.0f} visits due, "
                                 f"{m['ratings'][0]:,.0f} ratings"),
        ("written with COPY in", f"{took:.0f} s"),
        ("city table, runs", ", ".join(f"{s:.2f}" for s in m["city"]) + " s"),
        ("district table, runs", ", ".join(f"{s:.2f}" for s in m["district"]) + " s"),
        ("city, alarm and uptime columns only", f"{median(m['city_base']):.2f} s (runs "
         + ", ".join(f"{s:.2f}" for s in m["city_base"]) + " s): the service columns add "
         f"{median(m['city']) - median(m['city_base']):.2f} s"),
        ("city uptime over the year", f"{m['uptime'][0] * 100:.2f} %"),
    ]))  # fmt: skip


if __name__ == "__main__":
    main()
