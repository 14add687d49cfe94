"""A bridge or a worker as the cluster drill runs it: a process of its own (so it can be
SIGKILLed and SIGSTOPped) on the simulator's accelerated clock (``CAREHUB_DRILL_EPOCH``,
``_ANCHOR``, ``_SPEED``); every other setting from the usual ``CAREHUB_`` variables.

``CAREHUB_DRILL_PAUSE_FILE`` (workers): once that file exists, the worker stops itself
(SIGSTOP) the next time it commits a batch holding an SOS or a fall — the worst moment to
lose a lease: an alarm fetched, not yet stored. Fenced, it stops inside the commit's
transaction, the partition's fence row locked; unfenced (the control run), just before the
commit. The drill resumes it (SIGCONT) after its lease has lapsed.

Run: ``python -m tests.faults.cluster_main bridge|worker ID``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from carehub.cluster import run_bridge, run_worker
from device_sim.clock import AcceleratedClock
from hub.settings import HubSettings
from hub.store import open_store
from hub.store.postgres import fencing
from hub.store.postgres.fencing import worker_session_url

ALARMS = frozenset({"sos", "fall"})


def pause_before_alarm(store: Any, marker: Path) -> None:
    """Make ``store`` stop its process once, before committing an alarm, when ``marker``
    exists (fenced or not: the control run commits unfenced). When the store accepts that
    commit once the process is resumed, ``<marker>.stale-commit`` says so: a write from a
    worker whose lease lapsed, which fencing refuses."""
    state = {"done": False, "in_commit": False}
    stale = marker.with_name(marker.name + ".stale-commit")
    check = fencing.check_fence

    def stop(where: str) -> None:
        logging.getLogger(__name__).warning("pausing %s an alarm's commit", where)
        os.kill(os.getpid(), signal.SIGSTOP)

    def check_then_stop(cur: Any, fence: Any) -> None:
        # fenced: stop inside the commit's transaction, the partition's row locked by the
        # fence check: the new owner must not have to wait for this process to resume
        check(cur, fence)
        if state["in_commit"]:
            state["in_commit"] = False
            stop("in the middle of")

    fencing.check_fence = check_then_stop  # looked up by write_batch_fenced at each call

    def wrap(name: str, *, inside: bool) -> None:
        original = getattr(store, name)

        def write(batch: Any, *args: Any) -> Any:
            if (
                not state["done"]
                and any(e.type in ALARMS for e in batch.events)
                and marker.exists()
            ):
                state["done"] = True
                if inside:
                    state["in_commit"] = True
                else:
                    stop("before")
                # resumed past the lease: the commit fencing exists to refuse
                result = original(batch, *args)
                stale.write_text("the store accepted a commit made after the lease lapsed\n")
                return result
            return original(batch, *args)

        setattr(store, name, write)

    wrap("write_batch_fenced", inside=True)
    wrap("write_batch", inside=False)


def main() -> None:
    role, node_id = sys.argv[1], sys.argv[2]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("nats").setLevel(logging.WARNING)
    clock = AcceleratedClock(
        float(os.environ["CAREHUB_DRILL_EPOCH"]),
        float(os.environ["CAREHUB_DRILL_ANCHOR"]),
        float(os.environ["CAREHUB_DRILL_SPEED"]),
    )
    settings = HubSettings()
    if role == "bridge":
        asyncio.run(run_bridge(settings, bridge_id=node_id, clock=clock.now))
        return
    store = open_store(worker_session_url(settings.resolved_database_url(), node_id))
    if marker := os.environ.get("CAREHUB_DRILL_PAUSE_FILE"):
        pause_before_alarm(store, Path(marker))
    asyncio.run(run_worker(settings, worker_id=node_id, clock=clock.now, store=store))


if __name__ == "__main__":
    main()
