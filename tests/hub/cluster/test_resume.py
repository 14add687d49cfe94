"""Where a partition's new consumer starts: after what its previous owners are done with,
read from their consumers on a real JetStream server."""

from __future__ import annotations

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from hub.cluster.worker import resume_after
from tests.fixtures.nats import NatsProcess


async def test_a_claim_resumes_after_what_its_previous_owners_are_done_with(
    nats_server: NatsProcess,
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="T", subjects=["t.p.*"])
        for i in range(20):  # partition 1 holds the even sequences' messages
            await js.publish("t.p.1" if i % 2 == 0 else "t.p.2", b"{}")

        async def consumer(name: str, start: int) -> None:
            await js.add_consumer("T", ConsumerConfig(
                durable_name=name, filter_subject="t.p.1", ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start,
            ))  # fmt: skip

        async def infos() -> list[object]:
            return [c for c in await js.consumers_info("T") if c.name.startswith("p1-e")]

        # an owner that claimed at seq 7 and acknowledged up to seq 11
        await consumer("p1-e4", 7)
        sub = await js.pull_subscribe_bind("p1-e4", "T")
        for msg in await sub.fetch(3, timeout=5):  # seqs 7, 9, 11
            await msg.ack_sync()
        assert resume_after(await infos()) == 11
        # the next owner claimed after it (at 13) and died before its first acknowledgement:
        # JetStream reports its ack floor as 0, yet it covered nothing before 13
        await consumer("p1-e5", 13)
        (fresh,) = [c for c in await infos() if c.name == "p1-e5"]
        assert fresh.ack_floor.stream_seq == 0
        assert resume_after([fresh]) == 12  # not the beginning of the stream
        assert resume_after(await infos()) == 12
        # a consumer that has delivered but not acknowledged counts the same way
        sub5 = await js.pull_subscribe_bind("p1-e5", "T")
        assert [m.metadata.sequence.stream for m in await sub5.fetch(1, timeout=5)] == [13]
        assert resume_after(await infos()) == 12
    finally:
        await nc.close()
