"""Findings round-trip through both back-ends and are queried newest first."""

from __future__ import annotations

import pytest

from hub.store.base import FindingRow, Store


def test_findings_round_trip_and_filters(store: Store) -> None:
    rows = [
        FindingRow("r-1", "w-1", "fall", "high", 100.0, 101.5, {"peak_g": 3.2, "lying": True},
                   {"zh-CN": "检测到跌倒", "en": "Fall detected"}),
        FindingRow("r-1", "gw-1", "inactivity", "medium", 200.0, 200.25, {"minutes": 240},
                   {"zh-CN": "长时间无活动", "en": "No activity"}),
        FindingRow(None, "w-9", "device_offline", "low", 300.0, 300.0, {},
                   {"zh-CN": "设备离线", "en": "Device offline"}),
    ]  # fmt: skip
    ids = store.write_findings(rows)
    assert len(ids) == 3
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    newest = store.findings()
    assert [f.kind for f in newest] == ["device_offline", "inactivity", "fall"]
    fall = store.findings(kind="fall")[0]
    assert fall.id == ids[0]
    assert fall.evidence == {"peak_g": 3.2, "lying": True}
    assert fall.reason["zh-CN"] == "检测到跌倒"
    assert (fall.at, fall.detected_at) == (pytest.approx(100.0), pytest.approx(101.5))
    assert [f.kind for f in store.findings(resident_id="r-1")] == ["inactivity", "fall"]
    assert [f.kind for f in store.findings(device_id="w-9")] == ["device_offline"]
    assert [f.kind for f in store.findings(since=200.0)] == ["device_offline", "inactivity"]
    assert len(store.findings(limit=1)) == 1
    assert store.write_findings([]) == []
