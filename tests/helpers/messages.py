"""Inbound MQTT messages for tests that drive the ingest core without a broker.

``Msg`` has the fields :class:`hub.ingest.core.InboundLike` reads, plus the ``mid`` a
fake source acknowledges by. By default it is a QoS 1, non-retained message received at
``NOW``::

    >>> Msg("carehub/v1/devices/w-1/telemetry", b"{}").qos
    1
"""

from __future__ import annotations

from dataclasses import dataclass

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class Msg:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    received_at: float = NOW
    mid: int = 0
