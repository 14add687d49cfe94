"""The scorer on hand-made truth and alerts."""

from __future__ import annotations

from device_sim.incidents import RunInfo, TruthRecord
from device_sim.score import Occurrence, score

RUN = RunInfo("t", 1, 0.0, 2 * 86_400.0, 1.0, ("r1", "r2"))
TRUTH = [
    TruthRecord("i1", "fall", "r1", 1_000.0, 1_000.0, 1_120.0, "fall"),
    TruthRecord("i2", "fall", "r2", 5_000.0, 5_000.0, 5_120.0, "fall"),
    TruthRecord("i3", "fever", "r1", 9_000.0, 12_000.0, 13_000.0, "vitals", ("vitals_drift",)),
    TruthRecord("i4", "malformed", "r2", 9_000.0, 9_000.0, 9_600.0, None),
]


def test_recall_precision_delays_and_false_alerts() -> None:
    occ = [
        Occurrence("a1", "fall", "r1", 1_010.0),
        Occurrence("a1", "fall", "r1", 1_070.0),  # the long lie repeats the same alert
        Occurrence("a2", "fall", "r2", 5_300.0),  # too late: a miss, and a false alert
        Occurrence("a3", "vitals", "r1", 9_400.0),
        Occurrence("a4", "vitals_drift", "r1", 10_000.0),  # raised by the fever too
        Occurrence("a5", "sos", "r2", 20_000.0),  # nothing happened
    ]
    s = score(RUN, TRUTH, occ)
    fall = s["kinds"]["fall"]
    assert (fall["recall"], fall["precision"], fall["delay_p50_s"]) == (0.5, 0.5, 10.0)
    assert s["kinds"]["vitals"]["recall"] == 1.0
    assert s["kinds"]["vitals_drift"]["precision"] == 1.0
    assert s["kinds"]["sos"] == {
        "recall": None,
        "precision": 0.0,
        "delay_p50_s": None,
        "delay_p90_s": None,
        "incidents": 0,
        "alerts": 1,
    }
    assert s["false_alerts"] == 2
    assert s["false_alerts_per_resident_day"] == 2 / 4


def test_wrong_resident_does_not_match_and_no_alerts_means_zero_recall() -> None:
    s = score(RUN, TRUTH[:1], [Occurrence("a1", "fall", "r2", 1_010.0)])
    assert s["kinds"]["fall"]["recall"] == 0.0
    assert s["false_alerts"] == 1
    empty = score(RUN, TRUTH[:2], [])
    assert empty["kinds"]["fall"]["recall"] == 0.0
    assert empty["kinds"]["fall"]["precision"] is None
    assert empty["false_alerts_per_resident_day"] == 0.0
