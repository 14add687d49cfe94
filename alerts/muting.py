"""Muting alerts that are already open: a gateway or a whole place going offline, a new
silence, a silence that ended (pure).

:mod:`alerts.rules` says whether an alert should be told; this module applies that to the
open alerts of :class:`~alerts.memory.Memory` when something changes around them, writing
each change (``suppressed`` / ``unsuppressed`` on the timeline, pending messages cancelled,
escalation restarted when a mute is lifted) into a :class:`~alerts.plan.Plan`.
"""

from __future__ import annotations

from dataclasses import replace

from alerts import rounds
from alerts import state as st
from alerts.memory import OFFLINE, Memory
from alerts.plan import Lookup, Plan
from alerts.rules import Facts, Silence, suppression
from alerts.storms import STORM_KIND, covers, storm_keys


def facts(alert: st.Alert, look: Lookup) -> Facts:
    """What the rules need to know about an open alert (its resident's status, its
    device's gateway), read from the world as it is now."""
    resident = look.resident(alert.resident_id) if alert.resident_id else None
    device = look.device(alert.device_id) if alert.device_id else None
    return Facts(
        alert.kind, st.spec_for(alert.kind), alert.resident_id, alert.device_id,
        alert.station_id, resident.status if resident else None,
        device.gateway_id if device else None,
    )  # fmt: skip


def mute(out: Plan, mem: Memory, alert: st.Alert, reason: str, now: float) -> st.Alert:
    """Suppress an open alert: no deadline, its unsent messages cancelled."""
    muted = replace(alert, suppressed=reason, next_deadline=None)
    out.log(muted, now, st.SYSTEM, "suppressed", {"reason": reason})
    rounds.cancel_pending(out, muted, mem.pending_of(muted.id), now)
    return out.stage(muted)


def hide_children(out: Plan, mem: Memory, look: Lookup, gateway_id: str, now: float) -> None:
    """The gateway went offline: its sub-devices' offline alerts are inhibited."""
    for alert in list(mem.open.values()):
        if alert.kind != OFFLINE or alert.suppressed or alert.device_id is None:
            continue
        device = look.device(alert.device_id)
        if device is not None and device.gateway_id == gateway_id:
            mute(out, mem, alert, f"gateway_offline:{gateway_id}", now)


def hide_in_storm(out: Plan, mem: Memory, look: Lookup, storm: st.Alert, now: float) -> None:
    """A connectivity storm opened: offline alerts already open in its place are
    inhibited too (they are part of it)."""
    key = storm_keys([storm])[0]
    for alert in list(mem.open.values()):
        if alert.kind != OFFLINE or alert.suppressed or alert.id == storm.id:
            continue
        if covers(key, facts(alert, look)):
            mute(out, mem, alert, f"{STORM_KIND}:{key}", now)


def apply_silence(out: Plan, mem: Memory, silence: Silence, now: float) -> None:
    """A new silence (or maintenance window) mutes the open alerts it matches at once."""
    tag = "maintenance" if silence.technical_only else "silence"
    for alert in list(mem.open.values()):
        if alert.suppressed:
            continue
        if silence.matches(at=now, resident_id=alert.resident_id, device_id=alert.device_id,
                           kind=alert.kind, station_id=alert.station_id,
                           category=alert.category):  # fmt: skip
            muted = mute(out, mem, replace(alert, updated_at=now), f"{tag}:{silence.id}", now)
            out.event("updated", muted)


def resuppress(out: Plan, mem: Memory, look: Lookup, alert: st.Alert, now: float) -> st.Alert:
    """Check an alert muted by a silence again; unmute it (and start escalating) when the
    silence ended or was cancelled and nothing else mutes it."""
    reason = suppression(facts(alert, look), offline_gateways=mem.offline_devices(),
                         silences=mem.silences, at=now, storms=mem.storms())  # fmt: skip
    if reason == alert.suppressed:
        return alert
    updated = replace(alert, suppressed=reason, updated_at=now)
    out.log(updated, now, st.SYSTEM, "unsuppressed" if reason is None else "suppressed",
            {"reason": reason, "was": alert.suppressed})  # fmt: skip
    if reason is None and updated.state == "open":
        updated = rounds.restart(updated, mem.policy(updated.station_id), now)
    out.stage(updated)
    out.event("updated", updated)
    return updated
