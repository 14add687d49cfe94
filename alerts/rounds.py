"""Escalation rounds on one alert: (re)starting the plan, firing what is due, cancelling
what is no longer wanted (pure).

:mod:`alerts.escalation` says *when* a round is due; :mod:`alerts.recipients` says *who*
gets it. This module turns a due round into outbox rows (one per channel, keyed
``ALERT:ROUND:CHANNEL`` so a round is never sent twice), with one ``escalated`` timeline
entry per round naming who was reached, who was skipped and why. Everything is written
into a :class:`~alerts.plan.Plan`; nothing here reads a clock or the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from alerts import escalation as esc
from alerts import state as st
from alerts.notify import channel_id, redact
from alerts.plan import Plan
from alerts.recipients import recipients
from hub.store.base import Contact, NotificationRow


def restart(alert: st.Alert, policy: esc.EscalationPolicy, now: float) -> st.Alert:
    """Escalation (re)starts from ``now`` with the plan of the alert's priority."""
    plan = policy.for_priority(alert.priority)
    due = esc.next_deadline(plan, base=now, steps_fired=0, repeats_fired=0)
    return replace(alert, escalation_base=now, steps_fired=0, repeats_fired=0, next_deadline=due)


def escalate(
    out: Plan, alert: st.Alert, *, policy: esc.EscalationPolicy, contacts: Sequence[Contact],
    timezone: str, now: float,
) -> st.Alert:  # fmt: skip
    """Fire the rounds due by ``now``: outbox rows plus one timeline entry per round.
    ``timezone`` is the station's (quiet hours); ``contacts`` the resident's family."""
    plan = policy.for_priority(alert.priority)
    base = alert.escalation_base if alert.escalation_base is not None else alert.opened_at
    firings = esc.due_firings(plan, base=base, steps_fired=alert.steps_fired,
                              repeats_fired=alert.repeats_fired, now=now)  # fmt: skip
    if not firings:
        return alert
    for firing in firings:
        chosen, skipped = recipients(
            firing.targets, policy=policy, contacts=contacts, priority=alert.priority, at=now,
            timezone=timezone,
        )  # fmt: skip
        if alert.category == "technical" and esc.FAMILY in firing.targets:
            skipped = [s for s in skipped if s.target != esc.FAMILY]  # never told, by design
        for r in chosen:
            out.notify(NotificationRow(
                f"{alert.id}:{firing.tag}:{channel_id(r.channel)}", alert.id, firing.tag,
                r.target, r.channel, now, now, r.contact_id, r.language, updated_at=now,
            ))  # fmt: skip
        out.log(alert, now, st.SYSTEM, "escalated", {
            "round": firing.tag, "targets": list(firing.targets), "due_at": firing.due_at,
            "channels": [redact(r.channel) for r in chosen],
            "skipped": [{"target": s.target, "contact": s.contact_id, "reason": s.reason}
                        for s in skipped],
        })  # fmt: skip
    steps, repeats = esc.fired_counts(firings, alert.steps_fired, alert.repeats_fired)
    due = esc.next_deadline(plan, base=base, steps_fired=steps, repeats_fired=repeats)
    escalated = replace(alert, steps_fired=steps, repeats_fired=repeats, next_deadline=due)
    out.event("escalated", escalated)
    return escalated


def cancel_pending(
    out: Plan, alert: st.Alert, pending: Iterable[NotificationRow], now: float
) -> None:
    """Cancel the alert's unsent messages: those stored (``pending``) and those this step
    was about to create."""
    staged = {n.key for n in out.notifications}
    for n in pending:
        if n.key not in staged:
            out.updates.append(replace(n, state="cancelled", updated_at=now))
    out.drop_notifications(alert.id)
