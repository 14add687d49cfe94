"""Stored rows rebuilt into what the detectors saw, for a restarted hub."""

from __future__ import annotations

from hub.contract.models import Telemetry
from hub.runtime.replay import accepted_from_rows, new_findings
from hub.store.base import Device, EventRow, FindingRow, TelemetryRow

T0 = 1.75e9
DEVICES = {"w-1": Device("w-1", "wearable", resident_id="r-1"),
           "s-1": Device("s-1", "sensor", gateway_id="gw-1")}  # fmt: skip


def test_rows_become_the_messages_in_receive_order() -> None:
    acc = {"t0": T0, "hz": 50.0, "g": [[0.0, -1.0, 0.0], [0.1, -2.9, 0.3]]}
    tel = TelemetryRow("w-1", 3, T0, T0 + 2.0, {"hr": 72.0, "battery": 80.0},
                       quality={"hr": 0.9}, acc=acc)  # fmt: skip
    ev = EventRow("s-1", 9, T0, T0 + 1.0, "motion", {"room": "kitchen"})
    out = accepted_from_rows(DEVICES, [tel], [ev])
    assert [(a.device.id, a.msg_type, a.received_at) for a in out] == [
        ("s-1", "event", T0 + 1.0), ("w-1", "telemetry", T0 + 2.0)]  # fmt: skip
    assert out[0].message.room == "kitchen" and out[0].gateway_id == "gw-1"
    msg = out[1].message
    assert isinstance(msg, Telemetry)
    assert (msg.seq, msg.hr, msg.battery, msg.acc.hz, len(msg.acc.g)) == (3, 72.0, 80.0, 50.0, 2)


def test_rows_of_unknown_devices_or_that_no_longer_validate_are_skipped() -> None:
    gone = EventRow("x-9", 1, T0, T0, "sos", {})
    broken = TelemetryRow("w-1", 4, T0, T0, {"hr": 999.0})  # outside the contract's range
    nan = TelemetryRow("w-1", 5, float("nan"), T0, {"hr": 70.0})
    assert accepted_from_rows(DEVICES, [broken, nan], [gone]) == []


def test_findings_already_stored_are_not_found_twice() -> None:
    def f(kind: str, at: float) -> FindingRow:
        return FindingRow("r-1", "w-1", kind, "high", at, at + 1)

    stored = [f("fall", T0 + 0.0001)]  # the store keeps microseconds, not every bit
    found = [f("fall", T0), f("fall", T0 + 60), f("sos", T0)]
    assert new_findings(found, stored) == found[1:]
