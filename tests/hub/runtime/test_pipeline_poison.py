"""One bad message never stops ingestion: through the real pipeline, a message the database
cannot keep is refused (by validation, or by the store and then split out of its batch),
and an SOS that follows it is still stored and seen by the observers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from hub.errors import StoreRefused, StoreUnavailable
from hub.ingest.core import Accepted, Ingest
from hub.metrics import HubMetrics
from hub.runtime.pipeline import Pipeline
from hub.store.base import IngestBatch, Store
from tests.helpers.messages import NOW, Msg
from tests.helpers.registry import add_wearers

STATUS = "carehub/v1/devices/{}/status"
EVENT = "carehub/v1/devices/{}/event"


class FakeSource:
    """The MQTT adapter as the pipeline sees it: messages put in, acks and reports out."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Msg] = asyncio.Queue()
        self.acked: list[Msg] = []
        self.all_acked = asyncio.Event()
        self.expected = 0
        self.published: list[tuple[str, bytes]] = []

    async def get_batch(self, max_items: int = 500) -> list[Msg]:
        out = [await self.queue.get()]
        while not self.queue.empty() and len(out) < max_items:
            out.append(self.queue.get_nowait())
        return out

    def oldest_waiting(self) -> float | None:
        return None

    def ack(self, inbound: Msg) -> None:
        self.acked.append(inbound)
        if len(self.acked) >= self.expected:
            self.all_acked.set()

    def publish(
        self, topic: str, payload: bytes, qos: int = 0, retain: bool = False,
        *, droppable: bool = False,
    ) -> bool:  # fmt: skip
        self.published.append((topic, payload))
        return True


class RefusingStore:
    """The store, except that a batch holding a status message of ``device_id`` is refused,
    as PostgreSQL refuses text it cannot keep."""

    def __init__(self, store: Store, device_id: str) -> None:
        self._store = store
        self.device_id = device_id
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_batch(self, batch: IngestBatch) -> list[int]:
        self.writes += 1
        if any(s.device_id == self.device_id for s in batch.status):
            raise StoreRefused("write batch: the data was refused")
        return self._store.write_batch(batch)


class FlakyStore:
    """The store, unreachable for the first ``failures`` batch writes."""

    def __init__(self, store: Store, failures: int, source: FakeSource) -> None:
        self._store = store
        self.failures = failures
        self.source = source
        self.acked_while_down: list[Msg] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def write_batch(self, batch: IngestBatch) -> list[int]:
        if self.failures:
            self.failures -= 1
            self.acked_while_down += self.source.acked
            raise StoreUnavailable("write batch: connection lost")
        return self._store.write_batch(batch)


async def _run(
    store: Store, messages: Sequence[Msg], source: FakeSource | None = None,
    waits: list[float] | None = None,
) -> tuple[FakeSource, list[Accepted], Pipeline]:  # fmt: skip
    source = source or FakeSource()
    seen: list[Accepted] = []
    slept = waits if waits is not None else []

    async def sleep(delay: float) -> None:  # the store's back-off, without waiting
        slept.append(delay)

    pipeline = Pipeline(
        store, source, Ingest(metrics=HubMetrics(), clock=lambda: NOW), max_delay_s=0.01,
        clock=lambda: NOW, sleep=sleep,
    )  # fmt: skip
    pipeline.observers.append(seen.extend)
    await pipeline.start()
    source.expected = len(messages)
    for msg in messages:
        source.queue.put_nowait(msg)
    try:
        async with asyncio.timeout(10):
            await source.all_acked.wait()
            await pipeline.flush()
    except TimeoutError:
        # stuck retrying a poisoned batch: stop() would wait for it forever
        for task in pipeline._tasks:
            task.cancel()
        await asyncio.gather(*pipeline._tasks, return_exceptions=True)
        pytest.fail(f"ingestion stalled: {len(source.acked)} of {len(messages)} acknowledged")
    await pipeline.stop()
    return source, seen, pipeline


def _status(device_id: str, **fields: Any) -> Msg:
    payload = {"state": "online", "ts": NOW, "boot": 1, **fields}
    return Msg(STATUS.format(device_id), json.dumps(payload).encode())


def _sos(device_id: str, seq: int) -> Msg:
    payload = {"ts": NOW, "seq": seq, "type": "sos"}
    return Msg(EVENT.format(device_id), json.dumps(payload).encode(), received_at=NOW + 0.5)


@pytest.fixture
def home(store: Store) -> Store:
    add_wearers(store, 2)
    return store


async def test_a_nul_in_firmware_is_refused_and_a_later_sos_is_stored(home: Store) -> None:
    poison = _status("w-1", firmware="2.1\u00000")  # json.dumps writes the \u0000 escape
    source, seen, _ = await _run(home, [poison, _sos("w-2", 1)])

    assert [(e.device_id, e.type) for e in home.events()] == [("w-2", "sos")]
    assert [(a.device.id, a.msg_type) for a in seen] == [("w-2", "event")]
    [letter] = home.dead_letters()
    assert (letter.code, letter.device_id, letter.payload) == (
        "control_character", "w-1", poison.payload,
    )  # fmt: skip
    assert home.get_device("w-1").firmware is None
    assert set(source.acked) == {poison, _sos("w-2", 1)}
    [(topic, report)] = source.published
    assert topic == "carehub/v1/devices/w-1/errors"
    assert json.loads(report)["code"] == "control_character"


async def test_a_row_the_store_refuses_is_split_out_and_a_later_sos_is_stored(
    home: Store,
) -> None:
    refusing = RefusingStore(home, "w-1")
    poison = _status("w-1", firmware="2.1.0")
    messages = [_sos("w-2", 1), poison, _sos("w-2", 2)]
    source, seen, pipeline = await _run(refusing, messages)  # type: ignore[arg-type]

    assert sorted(e.seq for e in home.events(device_id="w-2")) == [1, 2]
    assert sorted((a.device.id, a.message.seq) for a in seen if a.msg_type == "event") == [
        ("w-2", 1), ("w-2", 2),
    ]  # fmt: skip
    assert all(a.device.id != "w-1" for a in seen)  # not stored: not observed either
    [letter] = home.dead_letters()
    assert (letter.code, letter.device_id, letter.topic, letter.payload) == (
        "store_refused", "w-1", poison.topic, poison.payload,
    )  # fmt: skip
    assert home.status_history("w-1") == []
    assert set(source.acked) == set(messages)  # kept as a dead letter: nothing is redelivered
    assert [json.loads(p)["code"] for _, p in source.published] == ["store_refused"]
    assert pipeline.metrics.store_refused.labels("status")._value.get() == 1
    assert pipeline.metrics.refused.labels("store_refused")._value.get() == 1


async def test_an_unreachable_store_is_retried_with_back_off_and_nothing_acked_meanwhile(
    home: Store,
) -> None:
    source, waits = FakeSource(), []
    flaky = FlakyStore(home, failures=3, source=source)
    messages = [_sos("w-1", 1)]
    _, seen, pipeline = await _run(flaky, messages, source, waits)  # type: ignore[arg-type]
    assert flaky.acked_while_down == []
    assert source.acked == messages
    assert [e.seq for e in home.events(device_id="w-1")] == [1]
    assert [(a.device.id, a.message.seq) for a in seen] == [("w-1", 1)]
    assert waits == [0.1, 0.2, 0.4]  # hub.backoff's doubling schedule
    assert pipeline.metrics.store_failures._value.get() == 3
