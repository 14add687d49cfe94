"""One attempt to deliver one outbox row: recorded, retried, and watched per channel (pure).

A failed attempt is retried after each delay of :data:`RETRY_DELAYS_S` in turn; after the
last, the row is ``failed``; a row cancelled while it was being sent stays cancelled. Every
attempt is on the alert's timeline (``notified`` or ``notify_failed``, the channel
redacted). A channel failing :data:`CHANNEL_DOWN_AFTER` times in a row raises a technical
``channel_down`` finding, and its next success a ``channel_up`` one, which the core takes
in like any other finding.

>>> from hub.store.base import NotificationRow
>>> row = NotificationRow("al-1:s0:abc", "al-1", "s0", "station", "json://h/x", 0.0, 0.0)
>>> plan, event = attempt(row, None, failures=0, now=10.0, error="HTTP 503")
>>> [(n.state, n.attempts, n.due_at) for n in plan.updates], event
([('pending', 1, 12.0)], None)
>>> cancelled = replace(row, state="cancelled")  # while it was being sent
>>> plan, event = attempt(cancelled, None, failures=0, now=10.0, error="HTTP 503")
>>> plan.updates, plan.effects, plan.timeline[0].detail["kept"]
([], [], 'cancelled')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from alerts import state as st
from alerts.notify import channel_id, redact
from alerts.plan import NotificationDue, Plan
from hub.store.base import NotificationRow, TimelineRow

RETRY_DELAYS_S: tuple[float, ...] = (2.0, 5.0, 15.0, 60.0, 300.0)
"""Back-off between attempts of one notification; after the last, it is marked failed."""
CHANNEL_DOWN_AFTER = 3
"""Consecutive failed attempts on one channel that raise a ``channel_down`` alert."""


@dataclass(frozen=True, slots=True)
class ChannelFinding:
    """A finding about a notification channel (down, or back up), made by the core."""

    device_id: str
    kind: str
    priority: str
    at: float
    evidence: dict[str, Any]
    reason: dict[str, str]
    resident_id: str | None = None
    """The resident of the alert whose message failed (the station's staff see it)."""


def attempt(
    row: NotificationRow, origin: st.Alert | None, *, failures: int, now: float,
    error: str | None = None, retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
    channel_down_after: int = CHANNEL_DOWN_AFTER,
) -> tuple[Plan, str | None]:  # fmt: skip
    """Record one attempt on ``row`` (``error`` None: it was delivered). ``origin`` is the
    row's alert, ``failures`` the channel's consecutive failures so far. Returns the plan
    and ``"channel_down"`` / ``"channel_up"`` when the channel's health is news.

    ``row`` is the outbox row as stored now. One that is no longer ``pending`` was
    cancelled (staff acknowledged, perhaps on another node) or recorded while it was being
    sent: the attempt is on the timeline (``kept``: that state) and counts for the
    channel, but the row stays as it is and nothing is retried."""
    out = Plan()
    attempts = row.attempts + 1
    ch = channel_id(row.channel)
    detail: dict[str, Any] = {
        "key": row.key, "channel": redact(row.channel), "target": row.target,
        "round": row.round, "attempt": attempts,
    }  # fmt: skip
    resident = origin.resident_id if origin else None
    pending = row.state == "pending"
    if not pending:
        detail["kept"] = row.state
    if error is None:
        if pending:
            out.updates.append(replace(row, state="sent", attempts=attempts, sent_at=now,
                                       updated_at=now, last_error=None))  # fmt: skip
        out.timeline.append(TimelineRow(row.alert_id, now, st.SYSTEM, "notified", detail,
                                        resident))  # fmt: skip
        out.failures[ch] = 0
        return out, "channel_up"
    retry = pending and attempts <= len(retry_delays_s)
    due = now + retry_delays_s[attempts - 1] if retry else row.due_at
    if pending:
        failed = replace(row, state="pending" if retry else "failed", attempts=attempts,
                         last_error=error[:500], due_at=due, updated_at=now)  # fmt: skip
        out.updates.append(failed)
        if retry:
            out.effects.append(NotificationDue(failed))
    detail |= {"error": error[:500], "retry_at": due if retry else None}
    out.timeline.append(TimelineRow(row.alert_id, now, st.SYSTEM, "notify_failed", detail,
                                    resident))  # fmt: skip
    out.failures[ch] = failures + 1
    return out, "channel_down" if failures + 1 >= channel_down_after else None


def channel_finding(
    row: NotificationRow, kind: str, now: float, error: str | None, resident_id: str | None
) -> ChannelFinding:
    """The technical finding about ``row``'s channel (``channel_down`` or ``channel_up``)."""
    name = redact(row.channel)
    return ChannelFinding(
        device_id=f"channel:{channel_id(row.channel)}", kind=kind, priority="medium", at=now,
        evidence={"channel": name, "target": row.target, "last_error": (error or "")[:200]},
        reason={"zh-CN": f"通知渠道 {name} 连续发送失败",
                "en": f"Notification channel {name} keeps failing"},
        resident_id=resident_id,
    )  # fmt: skip
