"""Findings of the activity rules: evidence always carries ``resident_id``, the reason is in
Chinese and English, and ``device_id`` is the sensor that last spoke for the resident."""

from __future__ import annotations

from hub.detect.findings import EvidenceValue, Finding, Priority

KIND_ZH = {"inactivity": "长时间无活动", "not_up": "早上未起床", "night_exit": "夜间外出",
           "long_bathroom": "卫生间停留过久", "out_of_bed": "夜间离床未归"}  # fmt: skip


def finding(
    rid: str, device: str, kind: str, prio: Priority, now: float,
    ev: dict[str, EvidenceValue], zh: str, en: str,
) -> Finding:  # fmt: skip
    """A finding about resident ``rid``, stamped ``now``."""
    return Finding(device or rid, kind, prio, now, {"resident_id": rid, **ev},
                   {"zh-CN": zh, "en": en})  # fmt: skip


def resumed(rid: str, device: str, kind: str, now: float, ts: float) -> Finding:
    """``activity_resumed`` (low): the person ``kind`` was about is active again; evidence
    ``clears`` names the finding so that its alert can clear."""
    ev: dict[str, EvidenceValue] = {"clears": kind, "activity_at": ts}
    zh = f"已恢复活动（{KIND_ZH.get(kind, kind)}）"
    en = f"Activity resumed ({kind.replace('_', ' ')})"
    return finding(rid, device, "activity_resumed", "low", now, ev, zh, en)
