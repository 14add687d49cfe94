"""The JetStream objects of the cluster mode: the device stream and the lease bucket.

Both are created idempotently by whoever starts first (bridge or worker):

- stream ``CAREHUB`` on ``carehub.p.>``, file storage, a duplicate window of two minutes
  (``Nats-Msg-Id``: a message the broker gives a second bridge is stored once) and a
  retention of ``max_age_s`` (``CAREHUB_STREAM_MAX_AGE_S``, default one day: what a worker
  can replay from; set when the stream is created);
- key-value bucket ``carehub_leases`` whose entries live ``lease_ttl_s``: ``p.<n>`` is the
  claim on partition n (value: the owner), ``w.<id>`` a live worker's heartbeat.
"""

from __future__ import annotations

from typing import Any

from hub.cluster.partition import STREAM, SUBJECT_PREFIX
from hub.errors import BrokerError

LEASE_BUCKET = "carehub_leases"
DUPLICATE_WINDOW_S = 120.0
MAX_AGE_S = 86_400.0


async def connect(url: str, *, name: str) -> Any:
    """A NATS connection that keeps reconnecting; :class:`BrokerError` when the first
    connection fails."""
    import nats
    from nats.errors import NoServersError

    try:
        return await nats.connect(
            url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            connect_timeout=5, allow_reconnect=True,
        )  # fmt: skip
    except (NoServersError, OSError, TimeoutError) as exc:
        raise BrokerError(f"cannot reach NATS at {url}: {exc}") from exc


async def ensure_stream(js: Any, *, max_age_s: float = MAX_AGE_S) -> None:
    from nats.js.api import StorageType, StreamConfig

    config = StreamConfig(
        name=STREAM, subjects=[f"{SUBJECT_PREFIX}.>"], storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S, max_age=max_age_s,
    )  # fmt: skip
    try:
        await js.stream_info(STREAM)
    except Exception:  # nats-py's NotFoundError; anything else fails again below
        await js.add_stream(config)


async def lease_bucket(js: Any, ttl_s: float) -> Any:
    from nats.js.api import KeyValueConfig

    try:
        return await js.key_value(LEASE_BUCKET)
    except Exception:  # not there yet
        return await js.create_key_value(KeyValueConfig(bucket=LEASE_BUCKET, ttl=ttl_s, history=1))
