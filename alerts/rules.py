"""Who is *not* told: inhibition, silences and maintenance windows (pure).

An alert that a rule suppresses is still opened, counted and kept on the timeline, so
nothing is lost; it only sends no notification and does not escalate.

- **Inhibition** (the idea of Prometheus Alertmanager's inhibit rules): an offline gateway
  hides the offline alerts of the sub-devices it carries (they are offline *because* of
  it); an open connectivity storm hides the offline alerts of the devices in its
  place (:mod:`alerts.storms`); a resident marked away, in hospital or inactive
  suppresses activity-pattern alerts (no movement at home is expected then). Falls, SOS,
  smoke and vitals are never inhibited.
- **Silences**: a person mutes a scope (resident, device, kind, station, any combination)
  from ``start`` to ``end``, with a reason. An empty scope is refused: it would mute
  everything.
- **Maintenance windows** are silences of technical alerts only, for a station or a
  device: a technician unplugging a gateway must not page the night shift, but a fall
  during the visit still must.

>>> s = Silence("s-1", start=0.0, end=60.0, author="li", reason="drill", resident_id="r-1")
>>> s.matches(at=10.0, resident_id="r-1", device_id="w-1", kind="fall", station_id="st",
...           category="clinical")
True
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from alerts.state import Category, KindSpec
from alerts.storms import storm_reason
from hub.errors import CarehubError

AWAY_STATUSES = frozenset({"away", "hospital", "inactive"})


class RuleError(CarehubError):
    """A silence or maintenance window is malformed (empty scope, end before start)."""


@dataclass(frozen=True, slots=True)
class Silence:
    """Mute alerts in a scope for a while. Every scope field that is set must match."""

    id: str
    start: float
    end: float
    author: str
    reason: str
    resident_id: str | None = None
    device_id: str | None = None
    kind: str | None = None
    station_id: str | None = None
    technical_only: bool = False
    """A maintenance window: mutes technical alerts only."""
    created_at: float = 0.0
    cancelled_at: float | None = None

    def __post_init__(self) -> None:
        if not (self.resident_id or self.device_id or self.kind or self.station_id):
            raise RuleError("a silence needs a scope: resident, device, kind or station")
        if not self.end > self.start:
            raise RuleError("a silence ends after it starts")
        if not self.author.strip() or not self.reason.strip():
            raise RuleError("a silence names its author and a reason")

    def active(self, at: float) -> bool:
        ended = self.cancelled_at is not None and self.cancelled_at <= at
        return self.start <= at < self.end and not ended

    def matches(
        self, *, at: float, resident_id: str | None, device_id: str | None, kind: str,
        station_id: str | None, category: Category,
    ) -> bool:  # fmt: skip
        """True when this silence mutes an alert with these attributes at ``at``."""
        if not self.active(at):
            return False
        if self.technical_only and category != "technical":
            return False
        wanted = (
            (self.resident_id, resident_id), (self.device_id, device_id), (self.kind, kind),
            (self.station_id, station_id),
        )  # fmt: skip
        return all(scope is None or scope == value for scope, value in wanted)


def maintenance_window(
    window_id: str, *, start: float, end: float, author: str, reason: str,
    station_id: str | None = None, device_id: str | None = None, created_at: float = 0.0,
) -> Silence:  # fmt: skip
    """A silence of technical alerts for a station or one device."""
    if station_id is None and device_id is None:
        raise RuleError("a maintenance window covers a station or a device")
    return Silence(
        window_id, start, end, author, reason, device_id=device_id, station_id=station_id,
        technical_only=True, created_at=created_at,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need to know about a would-be alert."""

    kind: str
    spec: KindSpec
    resident_id: str | None
    device_id: str | None
    station_id: str | None
    resident_status: str | None = None
    gateway_id: str | None = None
    """The gateway carrying ``device_id``, if any."""


def inhibited(
    facts: Facts, offline_gateways: Collection[str], storms: Collection[str] = ()
) -> str | None:
    """The inhibition reason for an alert, or None when it may be told. ``storms``: the
    places of open ``connectivity_loss`` alerts (:func:`alerts.storms.storm_keys`)."""
    if facts.kind == "device_offline" and facts.gateway_id in offline_gateways:
        return f"gateway_offline:{facts.gateway_id}"
    if (storm := storm_reason(facts, storms)) is not None:
        return storm
    if facts.spec.activity and facts.resident_status in AWAY_STATUSES:
        return f"resident_{facts.resident_status}"
    return None


def silenced(facts: Facts, silences: Iterable[Silence], at: float) -> str | None:
    """``silence:ID`` (or ``maintenance:ID``) of the first silence muting it, or None."""
    for s in silences:
        if s.matches(
            at=at, resident_id=facts.resident_id, device_id=facts.device_id, kind=facts.kind,
            station_id=facts.station_id, category=facts.spec.category,
        ):  # fmt: skip
            return f"{'maintenance' if s.technical_only else 'silence'}:{s.id}"
    return None


def suppression(
    facts: Facts, *, offline_gateways: Collection[str], silences: Iterable[Silence], at: float,
    storms: Collection[str] = (),
) -> str | None:  # fmt: skip
    """Why an alert should not be told right now (inhibition first), or None."""
    return inhibited(facts, offline_gateways, storms) or silenced(facts, silences, at)
