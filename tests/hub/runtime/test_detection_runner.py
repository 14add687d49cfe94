"""The detection runner takes alarms at once and telemetry in slices, giving the event
loop a turn in between, so an SOS never waits behind a district's telemetry batch."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from hub.metrics import HubMetrics
from hub.runtime.detection_runner import SLICE, DetectionRunner


class Recorder:
    """Stands in for Detection: records what it was given, finds nothing."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.horizons: list[float] = []
        self.observed_horizons: list[float] = []

    def observe(self, batch: list[Any], *, horizon: float = float("inf")) -> list[Any]:
        self.calls.append((batch[0].msg_type, len(batch)))
        self.observed_horizons.append(horizon)
        return []

    def tick(self, now: float, *, horizon: float) -> list[Any]:
        self.horizons.append(horizon)
        return []

    def set_registry(self, *_: Any) -> None:
        pass


class NoStore:
    def list_devices(self) -> list[Any]:
        return []

    list_residents = device_states = list_stations = list_devices

    def get_progress(self, name: str) -> float | None:
        return None

    def set_progress(self, name: str, value: float) -> None:
        pass


def accepted(kind: str, n: int, at: float = 0.0) -> list[Any]:
    return [SimpleNamespace(msg_type=kind, received_at=at + i) for i in range(n)]


async def test_alarms_go_first_and_telemetry_is_sliced() -> None:
    detection = Recorder()
    runner = DetectionRunner(NoStore(), detection, HubMetrics(), clock=lambda: 0.0,  # type: ignore[arg-type]
                             tick_s=3600)  # fmt: skip
    await runner.start()
    try:
        between: list[int] = []

        def elsewhere() -> None:  # another callback wanting the loop meanwhile
            between.append(len(detection.calls))

        n = 3 * SLICE + 5
        runner.observe(accepted("telemetry", n))
        asyncio.get_running_loop().call_soon(elsewhere)
        runner.observe(accepted("event", 1))  # an SOS committed right after
        assert detection.calls == [("event", 1)]  # at once, not behind the telemetry
        await runner.flush()
        assert detection.calls == [("event", 1), *[("telemetry", SLICE)] * 3, ("telemetry", 5)]
        assert between and between[0] < len(detection.calls)  # the loop had a turn midway
    finally:
        await runner.stop()


async def test_the_horizon_covers_telemetry_waiting_for_the_detectors() -> None:
    detection = Recorder()
    upstream = [500.0]  # the pipeline: its oldest message not yet handed over
    runner = DetectionRunner(NoStore(), detection, HubMetrics(), clock=lambda: 1000.0,  # type: ignore[arg-type]
                             tick_s=0.01, upstream=lambda: upstream[0])  # fmt: skip
    await runner.start()
    try:
        assert runner.horizon() == 500.0
        runner.observe(accepted("telemetry", 3, at=100.0))  # queued, not yet detected
        runner.observe(accepted("telemetry", 2, at=300.0))
        assert runner.horizon() == 100.0
        runner.observe(accepted("event", 1, at=400.0))  # an alarm sees the same horizon
        assert detection.observed_horizons[-1] == 100.0
        await runner.flush()
        assert runner.horizon() == 500.0
        upstream[0] = float("inf")  # nothing in flight at all
        assert runner.horizon() == float("inf")
        detection.horizons.clear()
        await asyncio.sleep(0.1)  # ten ticks' worth
        assert detection.horizons and detection.horizons[-1] == float("inf")  # passed on
    finally:
        await runner.stop()
