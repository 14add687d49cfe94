"""The fuzzer's input stream: seeded, deterministic, one :class:`Case` after another.

Each case starts as a valid message of a registered device (:mod:`tests.fuzz.seeds`) and
most are then broken (:mod:`tests.fuzz.mutate`). Besides malformed payloads and topics the
stream plays the ``seq`` games devices play: exact resends (duplicates, dropped silently),
the same ``seq`` with new content, a ``seq`` far behind, messages held back and sent out of
order, gaps, births with a new ``boot`` that restart the counter, retained status replays,
the hub's own ``cmd``/``errors`` echoed back, floods past the rate limit, oversized
payloads, valid messages at the contract's limits (:mod:`tests.fuzz.edges`), QoS 0 and 1,
retained flags where they do not belong.

Case ``i`` is received at ``T0 + i * DT`` on the hub's clock, so a dead letter's receive time
names the input it came from (:func:`index_of`). ``DT`` is a power of two, exact in binary
and far above PostgreSQL's microsecond. The same seed gives the same stream.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hub.contract import limits
from hub.contract.codes import ErrorCode
from tests.fuzz import edges, mutate, seeds

T0 = 1_767_225_600.0
DT = 1 / 64
"""Seconds between two inputs: 64 a second over 11 devices stays under the rate limit."""

SCENARIOS: dict[str, float] = {
    "valid": 30, "tree": 25, "text": 8, "bytes": 10, "topic": 8, "resend": 5, "reuse": 2,
    "stale": 1, "held": 3, "status": 4, "echo": 1, "oversize": 0.2, "flood": 0.03, "edge": 3,
}  # fmt: skip
"""How the next case is made, by weight."""


@dataclass(frozen=True, slots=True)
class Case:
    """One inbound message as the MQTT adapter hands it over, and how it was made."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received_at: float
    how: str


def received_at(index: int) -> float:
    return T0 + index * DT


def index_of(at: float) -> int:
    """The input received at ``at`` (a receive time as a store gives it back)."""
    return round((at - T0) / DT)


class Generator:
    """``cases(n)`` yields the next ``n`` cases of the stream of ``seed``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.index = 0
        self.seq = {r.device_id: 0 for r in seeds.ROUTES}
        self.boot = {r.device_id: 1 for r in seeds.ROUTES}
        self.commands = 0
        self.sent: deque[tuple[seeds.Route, str, dict[str, Any], Case]] = deque(maxlen=256)
        self.held: list[tuple[int, Case]] = []  # (send at index, case made earlier)
        self.flood: tuple[seeds.Route, int] | None = None
        self.reboots: list[seeds.Route] = []
        self._routes = {r.topic(t): r for r in seeds.ROUTES for t in ("telemetry", "event")}
        self._names = list(SCENARIOS)
        self._weights = list(SCENARIOS.values())

    def cases(self, n: int) -> Iterator[Case]:
        for _ in range(n):
            yield self._next()
            self.index += 1

    def observe(self, case: Case, code: str | None) -> None:
        """What ingest made of ``case`` (``code``: why it was refused). A valid message far
        behind its device's newest ``seq`` means a mutated one pushed the window ahead (say to
        2^53 - 1, which is valid): the device reboots, so its valid traffic counts again."""
        if code == ErrorCode.SEQ_OUT_OF_WINDOW and case.how in ("valid", "flood", "held", "edge"):
            route = self._routes.get(case.topic)
            if route is not None and route not in self.reboots:
                self.reboots.append(route)

    def _next(self) -> Case:
        rng = self.rng
        if self.reboots:
            route = self.reboots.pop(0)
            self.boot[route.device_id] += 1
            payload = seeds.status_message(
                rng, ts=self._ts(), boot=self.boot[route.device_id], birth=True
            )
            return self._case(route.topic("status"), payload, "reboot")
        if self.held and self.held[0][0] <= self.index:
            _, case = self.held.pop(0)
            return self._at_now(case, "held")
        if self.flood is not None:
            route, left = self.flood
            self.flood = (route, left - 1) if left > 1 else None
            msg_type, payload = self._data(route)
            return self._case(route.topic(msg_type), payload, "flood")
        how = rng.choices(self._names, self._weights)[0]
        return getattr(self, f"_{how}")()

    # --- scenarios ---------------------------------------------------------------------------

    def _valid(self) -> Case:
        route, msg_type, payload = self._any()
        case = self._case(route.topic(msg_type), payload, "valid")
        if msg_type in ("telemetry", "event"):
            self.sent.append((route, msg_type, payload, case))
        return case

    def _tree(self) -> Case:
        route, msg_type, payload = self._any()
        topic = route.topic(msg_type)
        for _ in range(self.rng.choice((1, 1, 1, 2, 3))):
            payload = mutate.mutate_tree(self.rng, payload)
        return self._case(topic, payload, "tree")

    def _text(self) -> Case:
        route, msg_type, payload = self._any()
        data = mutate.encode(self.rng, payload, faulty=True)
        return self._case(route.topic(msg_type), data, "text")

    def _bytes(self) -> Case:
        route, msg_type, payload = self._any()
        topic = route.topic(msg_type)
        data = mutate.encode(self.rng, payload, faulty=False)
        for _ in range(self.rng.choice((1, 1, 2, 3))):
            data = mutate.mutate_bytes(self.rng, data)
        return self._case(topic, data, "bytes")

    def _topic(self) -> Case:
        route, msg_type, payload = self._any()
        return self._case(mutate.mutate_topic(self.rng, route.topic(msg_type)), payload, "topic")

    def _resend(self) -> Case:
        if not self.sent:
            return self._valid()
        _, _, _, case = self.rng.choice(self.sent)
        return self._at_now(case, "resend")

    def _reuse(self) -> Case:
        if not self.sent:
            return self._valid()
        route, msg_type, payload, _ = self.rng.choice(self.sent)
        _, fresh = seeds.data_message(self.rng, route, seq=payload["seq"], ts=self._ts())
        return self._case(route.topic(msg_type), fresh, "reuse")  # same seq, new content

    def _stale(self) -> Case:
        route = self.rng.choice(seeds.ROUTES)
        behind = self.seq[route.device_id] - limits.SEQ_WINDOW - self.rng.randint(1, 5000)
        msg_type, payload = seeds.data_message(self.rng, route, seq=max(behind, 0), ts=self._ts())
        return self._case(route.topic(msg_type), payload, "stale")

    def _held(self) -> Case:
        route = self.rng.choice(seeds.ROUTES)
        msg_type, payload = self._data(route)
        later = self.index + self.rng.randint(1, 400)
        self.held.append((later, self._case(route.topic(msg_type), payload, "held")))
        self.held.sort(key=lambda h: h[0])
        return self._valid()

    def _status(self) -> Case:
        route = self.rng.choice(seeds.ROUTES)
        reboot = self.rng.random() < 0.3
        if reboot:  # a birth with a new boot, and the counter may restart
            self.boot[route.device_id] += 1
            if self.rng.random() < 0.5:
                self.seq[route.device_id] = 0
        boot = self.boot[route.device_id]
        payload = seeds.status_message(self.rng, ts=self._ts(), boot=boot, birth=reboot)
        return self._case(route.topic("status"), payload, "status")

    def _echo(self) -> Case:
        route = self.rng.choice(seeds.ROUTES)
        topic = route.topic(self.rng.choice(("cmd", "errors")))
        return self._case(topic, {"id": "c-1", "ts": self._ts(), "cmd": "ping"}, "echo")

    def _oversize(self) -> Case:
        route = self.rng.choice(seeds.ROUTES)
        size = limits.MAX_PAYLOAD_BYTES + self.rng.choice((1, 2, 100, 4000))
        pad = "x" * (size - 40)
        payload = {"ts": self._ts(), "seq": self._next_seq(route), "ext": {"p": pad}}
        return self._case(route.topic("telemetry"), payload, "oversize")

    def _edge(self) -> Case:
        route = self.rng.choice(seeds.ROUTES)
        latest = received_at(self.index) + limits.TS_MAX_AHEAD_S - 1
        ts = self.rng.choice((self._ts(), self._ts(), limits.TS_MIN, latest))
        r = self.rng.random()
        if r < 0.45:
            msg_type = "telemetry"
            payload = edges.telemetry(self.rng, seq=self._next_seq(route), ts=ts)
        elif r < 0.75:
            msg_type, payload = "event", edges.event(self.rng, seq=self._next_seq(route), ts=ts)
        elif r < 0.9:
            msg_type = "status"
            payload = edges.status(self.rng, ts=ts, boot=self.boot[route.device_id])
        else:
            msg_type, payload = "reply", edges.reply(self.rng, ts=ts)
        return self._case(route.topic(msg_type), payload, "edge")

    def _flood(self) -> Case:
        self.flood = (self.rng.choice(seeds.ROUTES), self.rng.randint(100, 250))
        return self._valid()

    # --- helpers -----------------------------------------------------------------------------

    def _any(self) -> tuple[seeds.Route, str, Any]:
        """A valid message of any class: (route, message type, decoded payload)."""
        route = self.rng.choice(seeds.ROUTES)
        r = self.rng.random()
        if r < 0.08:
            boot = self.boot[route.device_id]
            return route, "status", seeds.status_message(self.rng, ts=self._ts(), boot=boot)
        if r < 0.16:
            self.commands += 1
            reply = seeds.reply_message(self.rng, ts=self._ts(), command=self.commands)
            return route, "reply", reply
        msg_type, payload = self._data(route)
        return route, msg_type, payload

    def _data(self, route: seeds.Route) -> tuple[str, dict[str, Any]]:
        return seeds.data_message(self.rng, route, seq=self._next_seq(route), ts=self._ts())

    def _next_seq(self, route: seeds.Route) -> int:
        seq = self.seq[route.device_id]
        gap = self.rng.randint(2, 6) if self.rng.random() < 0.02 else 1
        self.seq[route.device_id] = seq + gap
        return seq

    def _ts(self) -> float:
        """Device time of a message made now: a little behind, sometimes a backlog or a
        clock that runs ahead."""
        now = received_at(self.index)
        r = self.rng.random()
        if r < 0.97:
            return now - self.rng.uniform(0.02, 2.0)
        if r < 0.99:
            return now - self.rng.uniform(60, 6 * 3600)
        return now + self.rng.uniform(1, 600)

    def _case(self, topic: str, payload: Any, how: str) -> Case:
        if not isinstance(payload, bytes):
            payload = mutate.encode(self.rng, payload, faulty=False)
        alarm = not topic.endswith("/telemetry")
        qos = 1 if alarm and self.rng.random() < 0.95 else self.rng.choice((0, 1))
        retain = self.rng.random() < (0.8 if topic.endswith("/status") else 0.02)
        return Case(topic, payload, qos, retain, received_at(self.index), how)

    def _at_now(self, case: Case, how: str) -> Case:
        return Case(case.topic, case.payload, case.qos, case.retain, received_at(self.index), how)
