"""The hub as the fault tests run it: ``carehub serve`` (:func:`carehub.serve.serve`, with its
waiting and self-recovery) in a process of its own, so it can be SIGKILLed, on the
simulator's accelerated clock (``CAREHUB_DRILL_EPOCH``, ``_ANCHOR``, ``_SPEED``). Every
other setting comes from the usual ``CAREHUB_`` variables.

Run: ``python -m tests.faults.hub_main``.
"""

from __future__ import annotations

import asyncio
import logging
import os

from carehub.serve import serve
from device_sim.clock import AcceleratedClock
from hub.settings import HubSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    clock = AcceleratedClock(
        float(os.environ["CAREHUB_DRILL_EPOCH"]),
        float(os.environ["CAREHUB_DRILL_ANCHOR"]),
        float(os.environ["CAREHUB_DRILL_SPEED"]),
    )
    asyncio.run(serve(HubSettings(), clock=clock.now))


if __name__ == "__main__":
    main()
