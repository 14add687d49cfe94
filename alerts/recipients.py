"""From a round of escalation to concrete channels: who gets what, in which language (pure).

Role targets take the channels the policy lists for them. ``family`` expands to the
resident's contacts, each with their preferences (``hub.registry.provisioning.contact_prefs``):

- ``min_priority``: alerts below it are not sent to this contact;
- ``quiet_hours`` (``"22:00-07:00"``, in the station's time zone): nothing but high
  priority is sent then;
- ``language``: ``zh-CN`` (default) or ``en``.

A contact left out is reported with the reason, so the timeline says why nobody was told.

>>> in_quiet_hours("22:00-07:00", hour=23, minute=30), in_quiet_hours("22:00-07:00", 12, 0)
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerts.escalation import FAMILY, EscalationPolicy
from alerts.state import RANK, Priority
from hub.store.base import Contact
from hub.timezones import local

_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
LANGUAGES = ("zh-CN", "en")


@dataclass(frozen=True, slots=True)
class Recipient:
    target: str
    """The role, or ``family``."""
    channel: str
    """An apprise URL or a signed webhook URL."""
    contact_id: str | None = None
    language: str = "zh-CN"


@dataclass(frozen=True, slots=True)
class Skipped:
    target: str
    contact_id: str | None
    reason: str


def in_quiet_hours(spec: str, hour: int, minute: int) -> bool:
    """True when ``hour:minute`` falls in ``spec`` (``HH:MM-HH:MM``, may wrap midnight).
    A malformed spec is treated as no quiet hours (it was validated when stored)."""
    m = _QUIET.match(spec)
    if m is None:
        return False
    start = int(m[1]) * 60 + int(m[2])
    end = int(m[3]) * 60 + int(m[4])
    t = hour * 60 + minute
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def local_time(at: float, timezone: str) -> tuple[int, int]:
    """(hour, minute) of ``at`` in ``timezone`` (UTC when the zone is unknown).

    >>> local_time(0.0, "Asia/Shanghai"), local_time(0.0, "Europe/London")
    ((8, 0), (1, 0))
    """
    moment = local(at, timezone)
    return moment.hour, moment.minute


def contact_refusal(contact: Contact, priority: Priority, at: float, timezone: str) -> str | None:
    """Why this contact must not be told now, or None."""
    prefs = contact.prefs
    minimum = prefs.get("min_priority", "low")
    if minimum in RANK and RANK[priority] < RANK[minimum]:
        return f"below min_priority {minimum}"
    quiet = prefs.get("quiet_hours")
    if (
        isinstance(quiet, str)
        and priority != "high"
        and in_quiet_hours(quiet, *local_time(at, timezone))
    ):
        return f"quiet hours {quiet}"
    if not contact.channels:
        return "no channels"
    return None


def recipients(
    targets: Iterable[str], *, policy: EscalationPolicy, contacts: Sequence[Contact],
    priority: Priority, at: float, timezone: str, language: str = "zh-CN",
) -> tuple[list[Recipient], list[Skipped]]:  # fmt: skip
    """Channels to notify for ``targets``, and who was left out and why. Each channel once."""
    out: list[Recipient] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()

    def add(r: Recipient) -> None:
        if r.channel not in seen:
            seen.add(r.channel)
            out.append(r)

    for target in targets:
        if target == FAMILY:
            if not contacts:
                skipped.append(Skipped(target, None, "no contacts"))
            for c in contacts:
                refusal = contact_refusal(c, priority, at, timezone)
                if refusal:
                    skipped.append(Skipped(target, c.id, refusal))
                    continue
                lang = c.prefs.get("language", language)
                for ch in c.channels:
                    add(Recipient(target, ch, c.id, lang if lang in LANGUAGES else language))
            continue
        channels = policy.roles.get(target, ())
        if not channels:
            skipped.append(Skipped(target, None, "role has no channels"))
        for ch in channels:
            add(Recipient(target, ch, None, language))
    return out, skipped
