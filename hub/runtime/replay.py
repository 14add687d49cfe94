"""Messages stored but not yet through detection, rebuilt for a restarted hub.

The hub commits a message, acknowledges it, and only then runs the detectors and the alert
engine over it. A hub that stops in between (killed, power cut) would lose the alarm: the
broker does not send the message again, and a copy it does send is dropped as a duplicate.
So the detection runner keeps a durable watermark (``progress`` ``detection``): every message
received up to it has been through the detectors, and every finding from it has reached
the alert engine. At start the hub reads the messages received after the watermark back
(telemetry, events and status changes) from the store and runs them through the
detectors again (:func:`accepted_from_rows`);
findings that were already stored are recognised (:func:`new_findings`) and not stored or
alerted twice.

Pure: rows in, :class:`~hub.ingest.core.Accepted` out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from hub.ingest.core import Accepted
from hub.ingest.validate import Refusal, decode
from hub.store.base import Device, EventRow, FindingRow, StatusChange, TelemetryRow

log = logging.getLogger(__name__)

WATERMARK = "detection"
"""Name of the watermark in the store's ``progress`` table."""


def accepted_from_rows(
    devices: Mapping[str, Device],
    telemetry: Iterable[TelemetryRow],
    events: Iterable[EventRow],
    status: Iterable[StatusChange] = (),
) -> list[Accepted]:
    """The stored messages as the detectors saw them, in receive order. Rows of devices no
    longer registered, or that no longer validate (a contract change), are skipped. A
    status change is stored with its device time (a birth) or receive time (a Will), which
    stands for its receive time here."""
    out: list[tuple[float, int, Accepted]] = []
    payload: dict[str, Any]
    for change in status:
        payload = {**change.info, "state": "online" if change.online else "offline"}
        if change.online:
            payload["ts"] = change.at
        _add(out, devices, change.device_id, "status", payload, change.at, 2)
    for row in telemetry:
        payload = {"ts": row.ts, "seq": row.seq, **row.values}
        for key in ("quality", "acc", "ext"):
            if (value := getattr(row, key)) is not None:
                payload[key] = value
        _add(out, devices, row.device_id, "telemetry", payload, row.received_at, 0)
    for ev in events:
        payload = {**ev.data, "ts": ev.ts, "seq": ev.seq, "type": ev.type}
        _add(out, devices, ev.device_id, "event", payload, ev.received_at, 1)
    out.sort(key=lambda item: (item[0], item[1]))
    return [a for _, _, a in out]


def _add(
    out: list[tuple[float, int, Accepted]],
    devices: Mapping[str, Device],
    device_id: str,
    msg_type: str,
    payload: dict[str, Any],
    received_at: float,
    order: int,
) -> None:
    device = devices.get(device_id)
    if device is None:
        return
    msg = decode(msg_type, orjson.dumps(payload), now=received_at)
    if isinstance(msg, Refusal):
        log.warning("stored %s of %s no longer validates (%s): not replayed", msg_type,
                    device_id, msg.code)  # fmt: skip
        return
    out.append(
        (received_at, order, Accepted(device, msg_type, msg, received_at, device.gateway_id))
    )


def new_findings(found: Sequence[FindingRow], stored: Iterable[FindingRow]) -> list[FindingRow]:
    """``found`` without those already stored (same device, kind and time): a replay finds
    again what the hub had found before it stopped."""
    seen = {(f.device_id, f.kind, round(f.at, 3)) for f in stored}
    return [f for f in found if (f.device_id, f.kind, round(f.at, 3)) not in seen]
