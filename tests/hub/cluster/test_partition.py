"""Our partition function against nats-server's own ``partition()`` subject mapping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
import pytest

from hub.cluster.partition import device_from_token, device_token, fnv1a32, partition_of
from tests.fixtures.nats import NatsProcess

PARTITIONS = 64


def test_fnv1a32_reference_values() -> None:
    # published FNV-1a 32-bit test vectors
    assert fnv1a32(b"") == 0x811C9DC5
    assert fnv1a32(b"a") == 0xE40C292C
    assert fnv1a32(b"foobar") == 0xBF9CF968


def test_device_token_round_trip() -> None:
    assert device_from_token(device_token("gw.7:door-1")) == "gw.7:door-1"
    assert "." not in device_token("gw.7:door-1")


async def test_partition_matches_the_server_mapping(
    nats_factory: Callable[..., NatsProcess],
) -> None:
    # the server's own FNV-1a partitioning, as the design would configure it
    mapped = f"carehub.mapped.{{{{partition({PARTITIONS},1)}}}}.{{{{wildcard(1)}}}}"
    server = nats_factory(mappings={"carehub.in.*": mapped})
    keys = [f"w-{i:04d}" for i in range(300)] + ["r-1", "resident:7", "GW_9-x", "a"]
    nc = await nats.connect(server.url)
    try:
        seen: dict[str, int] = {}
        done = asyncio.Event()

        async def on_msg(msg: nats.aio.msg.Msg) -> None:
            _, _, part, key = msg.subject.split(".", 3)
            seen[key] = int(part)
            if len(seen) == len(keys):
                done.set()

        await nc.subscribe("carehub.mapped.>", cb=on_msg)
        for key in keys:
            await nc.publish(f"carehub.in.{key}", b"")
        await nc.flush()
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await nc.close()
    assert seen == {k: partition_of(k, PARTITIONS) for k in keys}
    assert len(set(seen.values())) > PARTITIONS // 2  # spread, not one bucket


def test_partition_of_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        partition_of("x", 0)
