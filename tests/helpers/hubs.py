"""A whole hub (ingest, detectors, alert engine) started against a test broker and store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from carehub.serve import Hub
from hub.settings import HubSettings
from hub.store.base import Store


@asynccontextmanager
async def running_hub(store: Store, broker_url: str, **settings: Any) -> AsyncIterator[Hub]:
    """A :class:`Hub` on ``store`` and the broker at ``broker_url``, with a client id of its
    own and batches written after 50 ms (``settings`` are further :class:`HubSettings`);
    stopped on the way out."""
    settings.setdefault("batch_max_delay_s", 0.05)
    url = f"{broker_url}?client_id=hub-{time.time_ns()}"
    hub = Hub(store, url, settings=HubSettings(**settings))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
