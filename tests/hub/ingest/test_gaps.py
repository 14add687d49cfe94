"""Telemetry loss: missing ``seq`` numbers are counted once certainly lost, never when a
late or out-of-order message fills them; a new boot restarts numbering; the count reaches
the Prometheus counter and the device state (so the store keeps it across a restart)."""

from __future__ import annotations

import json

from hub.ingest.core import Ingest
from hub.ingest.gaps import SeqGaps
from hub.store.base import Device, DeviceState
from tests.helpers.messages import NOW, Msg

TOPIC = "carehub/v1/devices/w-1/telemetry"


def counted(g: SeqGaps, arrivals: list[tuple[int, float]]) -> tuple[int, int]:
    lost = late = 0
    for seq, at in arrivals:
        a, b = g.observe(seq, at)
        lost, late = lost + a, late + b
    return lost, late


def test_a_gap_is_counted_only_once_it_has_settled() -> None:
    g = SeqGaps(window=1024, settle_s=300.0)
    assert counted(g, [(1, 0.0), (2, 1.0), (5, 2.0)]) == (0, 0)  # 3 and 4 missing
    assert g.missing == 2
    assert g.settle(301.0) == 0  # not yet
    assert g.settle(302.0) == 2
    assert g.missing == 0 and g.settle(10_000.0) == 0  # counted once


def test_out_of_order_arrivals_that_fill_a_gap_are_not_lost() -> None:
    g = SeqGaps(settle_s=300.0)
    arrivals = [(10, 0.0), (13, 1.0), (11, 2.0), (12, 250.0), (14, 260.0)]
    assert counted(g, arrivals) == (0, 0)
    assert g.missing == 0 and g.settle(1_000.0) == 0


def test_holes_out_of_the_duplicate_window_are_certain_at_once() -> None:
    g = SeqGaps(window=8, settle_s=1e9)
    assert counted(g, [(1, 0.0), (3, 0.0)]) == (0, 0)  # 2 missing
    assert counted(g, [(11, 1.0)]) == (1, 0)  # 2 is now refusable: lost; 4..10 missing
    assert g.missing == 7
    # a leap far beyond the window counts one window's worth, not a million messages
    assert g.observe(1_000_011, 2.0) == (8, 0)  # 7 open holes and the leap's lowest one
    assert g.missing == 7


def test_a_late_arrival_after_counting_is_reported_as_late() -> None:
    g = SeqGaps(settle_s=60.0)
    counted(g, [(1, 0.0), (3, 0.0)])
    assert g.settle(61.0) == 1
    assert g.observe(2, 70.0) == (0, 1)  # stored, and lost = gaps - late stays exact
    assert g.observe(2, 71.0) == (0, 0)


def test_a_new_boot_closes_the_old_numbering() -> None:
    g = SeqGaps(settle_s=1e9)
    counted(g, [(100, 0.0), (104, 1.0)])
    assert g.restart() == 3
    assert counted(g, [(0, 2.0), (1, 3.0)]) == (0, 0)  # numbering from 0: no gap


def tel(seq: int, at: float) -> Msg:
    body = {"ts": NOW, "seq": seq, "hr": 70}
    return Msg(TOPIC, json.dumps(body).encode(), qos=0, received_at=at)


def status(boot: int, at: float) -> Msg:
    body = {"state": "online", "boot": boot}
    return Msg("carehub/v1/devices/w-1/status", json.dumps(body).encode(), 1, received_at=at)


def gaps_metric(ing: Ingest) -> float:
    value = ing.metrics.registry.get_sample_value("carehub_telemetry_gaps_total")
    return 0.0 if value is None else value


def test_ingest_counts_gaps_in_the_metric_and_the_device_state() -> None:
    clock = [NOW]
    ing = Ingest(clock=lambda: clock[0])
    ing.set_devices([Device("w-1", "wearable")])
    for seq in (1, 2, 5, 4, 9):  # 3, 6, 7, 8 missing; 4 arrives out of order
        ing.handle(tel(seq, NOW + seq))
    assert ing.take().seen["w-1"].telemetry_gaps == 0
    assert gaps_metric(ing) == 0
    clock[0] = NOW + 400  # nothing more arrived: the holes are lost
    p = ing.take()
    assert p.seen["w-1"].telemetry_gaps == 4
    assert gaps_metric(ing) == 4
    # a new boot restarts seq: 0 after 9 is no gap
    ing.handle(status(2, clock[0]))
    ing.handle(tel(0, clock[0] + 1))
    ing.handle(tel(1, clock[0] + 2))
    assert ing.take().seen["w-1"].telemetry_gaps == 4


def test_the_count_continues_from_the_stored_state_after_a_restart() -> None:
    ing = Ingest(clock=lambda: NOW + 1_000)
    ing.set_devices([Device("w-1", "wearable")])
    ing.seed([DeviceState("w-1", last_seq=41, telemetry_gaps=7)], {"w-1": [40, 41]})
    ing.handle(tel(44, NOW))  # 42 and 43 never came
    p = ing.take()  # and by the hub's clock they have settled
    assert p.seen["w-1"].telemetry_gaps == 9
