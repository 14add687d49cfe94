"""Partition leases in JetStream KV: an even share over the live workers, a dead worker's
share taken over after the TTL, a joining worker given its share, and every claim under a
larger epoch than the last."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from hub.cluster.leases import LeaseKeeper, fair_share, preference
from tests.fixtures.nats import NatsProcess

PARTITIONS = 12
TTL = 1.5


class Ledger:
    """What the keepers reported, by worker."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, dict[int, int]] = {}
        self.epochs: dict[int, list[int]] = {}

    def keeper(self, url: str, name: str) -> LeaseKeeper:
        self.held[name] = {}

        def claim(p: int, epoch: int) -> None:
            with self.lock:
                self.held[name][p] = epoch
                self.epochs.setdefault(p, []).append(epoch)

        def lose(p: int, epoch: int) -> None:
            with self.lock:
                if self.held[name].get(p) == epoch:
                    del self.held[name][p]

        return LeaseKeeper(url, name, PARTITIONS, TTL, on_claim=claim, on_lose=lose)

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {n: len(h) for n, h in self.held.items()}


def until(check: Callable[[], bool], within: float) -> float:
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


def test_fair_share_and_preference() -> None:
    assert fair_share(64, 3) == 22
    assert sorted(preference("w-1", 16)) == list(range(16))
    assert preference("w-1", 16) != preference("w-2", 16)


def test_leases_spread_fail_over_and_rebalance(nats_server: NatsProcess) -> None:
    ledger = Ledger()
    a = ledger.keeper(nats_server.url, "a")
    b = ledger.keeper(nats_server.url, "b")
    a.start()
    b.start()
    c = None
    try:
        until(lambda: ledger.counts() == {"a": 6, "b": 6}, within=10)
        a.stop(release=False)  # as if killed: its claims lapse by themselves
        took = until(lambda: ledger.counts()["b"] == PARTITIONS, within=10)
        assert took < TTL + 2.0
        c = ledger.keeper(nats_server.url, "c")
        c.start()
        until(lambda: ledger.counts()["b"] == ledger.counts()["c"] == 6, within=10)
    finally:
        for k in (b, c):
            if k is not None:
                k.stop()
    for epochs in ledger.epochs.values():  # every claim newer than the one before
        assert epochs == sorted(epochs)
        assert len(set(epochs)) == len(epochs)
