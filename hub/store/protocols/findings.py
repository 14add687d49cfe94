"""Detector findings as stored, and the named watermarks (progress) of the detection
runner: what a restarted hub needs to feed the alert engine again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


def finding_key(device_id: str, kind: str, at: float, condition: object = None) -> str:
    """What identifies a finding across restarts: the device, the rule that fired (its kind,
    and its ``condition`` when one detector reports several at once, as the vital-sign
    detector does for NEWS2 and a clinician's limit) and the event time, to the
    microsecond (what PostgreSQL keeps of a time).

    >>> finding_key("w-1", "fall", 1767229200.25)
    'w-1|fall|1767229200.250000'
    >>> finding_key("w-1", "vitals", 1767229200.25, "hr_high")
    'w-1|vitals:hr_high|1767229200.250000'
    """
    rule = f"{kind}:{condition}" if isinstance(condition, str) and condition else kind
    return f"{device_id}|{rule}|{at:.6f}"


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A detector's finding as stored: see :class:`hub.detect.findings.Finding`."""

    resident_id: str | None
    device_id: str
    kind: str
    priority: str
    at: float
    """When it happened (device time)."""
    detected_at: float
    """When the hub noticed (hub time)."""
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: dict[str, str] = field(default_factory=dict)
    id: int | None = None


@runtime_checkable
class FindingStore(Protocol):
    """Findings in, the unhandled ones out; named watermarks."""

    def write_findings(self, rows: Sequence[FindingRow]) -> list[int]:
        """Store findings in one transaction; return their ids in order."""
        ...

    def unhandled_findings(self, since: float, limit: int = 10_000) -> list[FindingRow]:
        """Findings detected since ``since`` that the alert engine has not taken in yet,
        oldest first (a restarted hub feeds them to the engine again)."""
        ...

    def mark_findings_handled(self, ids: Sequence[int], at: float) -> None:
        """Record that the alert engine took these findings in."""
        ...

    def get_progress(self, name: str) -> float | None:
        """A named watermark (``None`` when never set)."""
        ...

    def set_progress(self, name: str, value: float) -> None: ...

    def findings(
        self, *, resident_id: str | None = None, device_id: str | None = None,
        kind: str | None = None, since: float | None = None, limit: int = 100,
    ) -> list[FindingRow]:  # fmt: skip
        """Newest first (by detection time)."""
        ...
