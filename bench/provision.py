"""Bulk provisioning: 100,000 devices imported with credentials on PostgreSQL.

``provision_100k_s``: seconds for :func:`hub.registry.provisioning.import_devices` (what
``carehub import devices`` runs) on a CSV of 100,000 devices — 20,000 homes, each a
gateway with three sensors behind it and a wearable — from the CSV text to the committed
registry and the credentials CSV: parsing, every check (one query for existence and
gateway kinds), a fresh secret and its argon2id hash per device, and one COPY
transaction. Goal: under a minute (issue 12; it took over 20 minutes before).

Its peer, ``provision_store_100k_s``: the store's bulk write alone
(:meth:`hub.store.base.Store.add_devices`) of the same devices with a hash made
beforehand: what is left when parsing, checking and hashing cost nothing. The two
alternate, ``--runs`` of each (at least 5), on one throwaway database emptied between
runs; medians. The broker's accounts are not part of it (see docs/operations.md).

Run: ``python -m bench.provision`` (about two minutes).
"""

from __future__ import annotations

import argparse
import io
import time

import psycopg

from bench.common import Figure, alternate, median, pg_database, report
from hub.registry.provisioning import (
    credentials_csv,
    hash_secret,
    import_devices,
    new_secret,
)
from hub.store import open_store
from hub.store.base import City, Device, District, Station, Store

STATION = "st-bulk"


def devices_csv(n: int) -> str:
    """``n`` devices in homes of five: a gateway, three sensors behind it, a wearable."""
    out = io.StringIO()
    out.write("id,kind,gateway_id,vendor,model\n")
    sensors = ("motion", "door", "bed")
    for i in range(n):
        home, k = divmod(i, 5)
        if k == 0:
            out.write(f"gw-{home:06d},gateway,,SimCare,GW-1\n")
        elif k <= len(sensors):
            out.write(f"s-{home:06d}-{k},{sensors[k - 1]},gw-{home:06d},SimCare,S-1\n")
        else:
            out.write(f"w-{home:06d},wearable,,SimCare,W-1\n")
    return out.getvalue()


def _empty(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE devices CASCADE")


def measure(url: str, n: int, runs: int) -> dict[str, float]:
    store: Store = open_store(url)
    store.add_city(City("sh", "上海"))
    store.add_district(District("pd", "sh", "浦东新区"))
    store.add_station(Station(STATION, "pd", "花木街道养老服务站"))
    text = devices_csv(n)
    digest = hash_secret(new_secret())
    rows = [(Device(f"d-{i:06d}", "wearable", created_at=time.time()), digest) for i in range(n)]
    count = {"import": 0}

    def full() -> float:
        _empty(url)
        start = time.perf_counter()
        creds = import_devices(store, STATION, text)
        credentials_csv(creds)  # the command prints them: part of the job
        took = time.perf_counter() - start
        count["import"] = len(creds)
        return took

    def store_only() -> float:
        _empty(url)
        start = time.perf_counter()
        store.add_devices(rows)
        return time.perf_counter() - start

    full_s, store_s = alternate(runs, full, store_only)
    store.close()
    if count["import"] != n:
        raise SystemExit(f"imported {count['import']} of {n} devices")
    return {"full": median(full_s), "store": median(store_s),
            "full_max": max(full_s), "full_min": min(full_s)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with pg_database() as url:
        m = measure(url, args.devices, args.runs)
    scale = 100_000 / args.devices  # the figures are per 100,000 devices
    raise SystemExit(report(f"bulk provisioning, {args.devices:,} devices (PostgreSQL)", [
        Figure("provision_100k_s", m["full"] * scale, args.runs),
        Figure("provision_store_100k_s", m["store"] * scale, args.runs),
    ], [
        ("import with credentials, median", f"{m['full']:.1f} s "
         f"(runs from {m['full_min']:.1f} to {m['full_max']:.1f} s)"),
        ("the store's bulk write alone, median", f"{m['store']:.1f} s"),
        ("import ÷ bulk write", f"{m['full'] / m['store']:.1f}×"),
        ("devices per second (import)", f"{args.devices / m['full']:,.0f}"),
    ]))  # fmt: skip


if __name__ == "__main__":
    main()
