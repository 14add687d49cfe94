"""What people and devices do to an alert: acknowledge, assign, resolve, comment, and the
device's answer to "help is coming" (pure).

Each function takes the alert as it stands and returns the :class:`~alerts.plan.Plan` of
the step: the changed alert, its timeline entry, the messages it cancels and, on
acknowledge, the ``notify`` command for the resident's wearable (:mod:`alerts.commands`).
The transitions themselves, and what is refused, are :mod:`alerts.state`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from alerts import rounds
from alerts import state as st
from alerts.commands import command_device, help_coming
from alerts.memory import Memory
from alerts.plan import Lookup, Plan


def acknowledge(
    alert: st.Alert, actor: str, now: float, note: str | None, *, mem: Memory, look: Lookup,
    new_id: Callable[[str], str],
) -> Plan:  # fmt: skip
    """Someone takes responsibility: escalation stops, pending messages are cancelled,
    and the resident's device is told that help is coming."""
    out = Plan()
    acked = st.acknowledge(alert, actor, now)
    out.log(acked, now, actor, "acknowledged", {"note": note} if note else {})
    rounds.cancel_pending(out, acked, mem.pending_of(acked.id), now)
    acked = help_is_coming(out, look, acked, now, new_id)
    out.stage(acked)
    out.event("acknowledged", acked)
    return out


def assign(alert: st.Alert, actor: str, assignee: str, now: float) -> Plan:
    out = Plan()
    assigned = out.stage(st.assign(alert, actor, assignee, now))
    out.log(assigned, now, actor, "assigned", {"assignee": assignee})
    out.event("assigned", assigned)
    return out


def resolve(
    alert: st.Alert, actor: str, outcome: str, now: float, note: str | None, *, mem: Memory
) -> Plan:
    out = Plan()
    resolved = st.resolve(alert, actor, outcome, now, note)
    out.log(resolved, now, actor, "resolved", {"outcome": outcome, "note": note})
    rounds.cancel_pending(out, resolved, mem.pending_of(resolved.id), now)
    out.stage(resolved)
    out.event("resolved", resolved)
    return out


def check_comment(actor: str, text: str) -> None:
    """A comment has a person as author and some text (TransitionError otherwise)."""
    if not st.is_person(actor) or not text.strip():
        raise st.TransitionError("a comment has a person as author and some text")


def comment(alert: st.Alert, actor: str, text: str, now: float) -> Plan:
    """A comment on any alert, resolved or not."""
    check_comment(actor, text)
    out = Plan()
    out.log(alert, now, actor, "comment", {"text": text})
    out.event("comment", alert)
    return out


def reply(alert: st.Alert, device_id: str, command_id: str, status: str, at: float) -> Plan:
    """The device answered the alert's command (``received``, ``done``, ``failed``...)."""
    out = Plan()
    updated = out.stage(replace(alert, command_status=status, updated_at=at))
    out.log(updated, at, f"device:{device_id}", "command_reply",
            {"command_id": command_id, "status": status})  # fmt: skip
    out.event("command_reply", updated)
    return out


def help_is_coming(
    out: Plan, look: Lookup, alert: st.Alert, now: float, new_id: Callable[[str], str]
) -> st.Alert:
    """Tell the resident's wearable that help is coming (clinical alerts only)."""
    if alert.category != "clinical" or alert.device_id is None:
        return alert
    worn = look.worn(alert.resident_id) if alert.resident_id else ()
    target = command_device(look.device(alert.device_id), worn)
    if target is None:
        return alert
    cmd = help_coming(target, alert.id, new_id("cmd"), now)
    out.effects.append(cmd)
    out.log(alert, now, st.SYSTEM, "command_sent", {
        "command_id": cmd.command_id, "device_id": target.id, "pattern": "help_coming",
    })  # fmt: skip
    return replace(alert, command_id=cmd.command_id, command_status="sent")
