"""What travels between the pure alert core and the engine that does its I/O (pure).

The core (:mod:`alerts.core`) decides; the engine (:mod:`alerts.engine`) reads the store,
writes it and tells listeners. Between them only plain values travel:

- **in**: :class:`World`, the part of the registry one decision needs (devices, residents,
  stations, contacts, alerts no longer in memory). The core reads it through a
  :class:`Lookup`, which notes what was asked for and is not there; the core then raises
  :class:`NeedData` instead of deciding on a guess, and the engine loads exactly that and
  asks again. Nothing has been written or changed by then, so asking again is safe.
- **out**: a :class:`Plan`: the alert rows, timeline entries and outbox rows to write in
  one transaction, the findings it takes in, the effects for the runner
  (:class:`NotificationDue`, :class:`~alerts.commands.CommandOut`) and the events for
  listeners (:class:`AlertEvent`). The core's own memory changes only when the engine
  hands the committed plan back (:meth:`alerts.core.AlertCore.apply`).

>>> look = Lookup(World(devices={"w-1": None}))
>>> look.device("w-1") is None, look.missing
(True, set())
>>> look.device("w-2") is None, sorted(look.missing)
(True, [('device', 'w-2')])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from alerts.commands import CommandOut
from alerts.state import Alert
from hub.errors import CarehubError
from hub.store.base import Contact, Device, NotificationRow, Resident, Station, TimelineRow

T = TypeVar("T")


class FindingLike(Protocol):
    """A finding as the core reads it (:class:`hub.store.base.FindingRow` fits)."""

    @property
    def device_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def priority(self) -> str: ...
    @property
    def at(self) -> float: ...
    @property
    def evidence(self) -> Mapping[str, Any]: ...
    @property
    def reason(self) -> Mapping[str, str]: ...


@dataclass(frozen=True, slots=True)
class NotificationDue:
    """An outbox row that is due: the runner sends it."""

    row: NotificationRow


Effect = NotificationDue | CommandOut


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One change of one alert, for listeners (the dashboard's stream)."""

    action: str
    alert: Alert
    entries: tuple[TimelineRow, ...] = ()


Need = tuple[str, str]
"""(table, key) of something the core asked for and the world did not hold."""


class NeedData(CarehubError):  # noqa: N818 - a request, not a failure
    """The core cannot decide without these entries of the world; load them, ask again."""

    def __init__(self, needs: set[Need]) -> None:
        super().__init__(f"needs {sorted(needs)}")
        self.needs = needs


@dataclass(frozen=True, slots=True)
class World:
    """Registry entries and stored alerts by key; ``None`` says "looked up: none"."""

    devices: Mapping[str, Device | None] = field(default_factory=dict)
    residents: Mapping[str, Resident | None] = field(default_factory=dict)
    stations: Mapping[str, Station | None] = field(default_factory=dict)
    contacts: Mapping[str, Sequence[Contact]] = field(default_factory=dict)
    worn: Mapping[str, Sequence[Device]] = field(default_factory=dict)
    """A resident's devices (the "help is coming" command goes to one they wear)."""
    alerts: Mapping[str, Alert | None] = field(default_factory=dict)
    """Alerts the core no longer keeps (resolved), by id."""
    notifications: Mapping[str, NotificationRow] = field(default_factory=dict)
    """Outbox rows by key, read again as stored after another process changed them (a
    delivery result is then recorded on the row as it is now)."""


class Lookup:
    """Reads a :class:`World` for the core and notes what it lacks (:attr:`missing`)."""

    __slots__ = ("missing", "world")

    def __init__(self, world: World) -> None:
        self.world = world
        self.missing: set[Need] = set()

    def device(self, device_id: str) -> Device | None:
        return self._get("device", self.world.devices, device_id, None)

    def resident(self, resident_id: str) -> Resident | None:
        return self._get("resident", self.world.residents, resident_id, None)

    def station(self, station_id: str) -> Station | None:
        return self._get("station", self.world.stations, station_id, None)

    def contacts(self, resident_id: str) -> Sequence[Contact]:
        return self._get("contacts", self.world.contacts, resident_id, ())

    def worn(self, resident_id: str) -> Sequence[Device]:
        return self._get("worn", self.world.worn, resident_id, ())

    def alert(self, alert_id: str) -> Alert | None:
        """A stored alert; without it nothing sensible can follow, so a miss stops here."""
        if alert_id not in self.world.alerts:
            raise NeedData({*self.missing, ("alert", alert_id)})
        return self.world.alerts[alert_id]

    def check(self) -> None:
        """Raise :class:`NeedData` when anything asked for was missing."""
        if self.missing:
            raise NeedData(set(self.missing))

    def _get(self, table: str, values: Mapping[str, T], key: str, default: T) -> T:
        if key in values:
            return values[key]
        self.missing.add((table, key))
        return default


@dataclass(slots=True)
class Plan:
    """What one step of the core writes (in one transaction) and returns."""

    alerts: list[Alert] = field(default_factory=list)
    """New and changed alerts, the latest version of each once."""
    timeline: list[TimelineRow] = field(default_factory=list)
    notifications: list[NotificationRow] = field(default_factory=list)
    """New outbox rows."""
    updates: list[NotificationRow] = field(default_factory=list)
    """Changed outbox rows (sent, failed, retried, cancelled)."""
    effects: list[Effect] = field(default_factory=list)
    events: list[tuple[str, Alert]] = field(default_factory=list)
    handled: list[int] = field(default_factory=list)
    """Ids of the findings this step takes in (marked handled in the same transaction)."""
    failures: dict[str, int] = field(default_factory=dict)
    """Consecutive failures per channel id after this step (0: it worked)."""

    @property
    def writes(self) -> bool:
        return bool(self.alerts or self.timeline or self.notifications or self.updates
                    or self.handled)  # fmt: skip

    def stage(self, alert: Alert) -> Alert:
        """Keep ``alert`` as the version to write (replacing an earlier one of this step)."""
        self.alerts[:] = [a for a in self.alerts if a.id != alert.id]
        self.alerts.append(alert)
        return alert

    def log(self, alert: Alert, at: float, actor: str, action: str, detail: dict[str, Any]) -> None:
        self.timeline.append(TimelineRow(alert.id, at, actor, action, detail, alert.resident_id))

    def event(self, action: str, alert: Alert) -> None:
        self.events.append((action, alert))

    def notify(self, row: NotificationRow) -> None:
        self.notifications.append(row)
        self.effects.append(NotificationDue(row))

    def drop_notifications(self, alert_id: str) -> None:
        """Forget the outbox rows this step made for ``alert_id`` (it was just muted)."""
        self.notifications[:] = [n for n in self.notifications if n.alert_id != alert_id]
        self.effects[:] = [
            e for e in self.effects
            if not (isinstance(e, NotificationDue) and e.row.alert_id == alert_id)
        ]  # fmt: skip


class RewindableIds:
    """``new_id`` for the core, handing the ids of a step that had to be asked again out
    again (so ids stay in order, and a test's counter counts steps, not attempts)."""

    def __init__(self, new_id: Callable[[str], str]) -> None:
        self.new_id = new_id
        self._issued: list[tuple[str, str]] = []
        self._spare: list[tuple[str, str]] = []

    def __call__(self, prefix: str) -> str:
        spare = next((i for i, (p, _) in enumerate(self._spare) if p == prefix), None)
        value = self.new_id(prefix) if spare is None else self._spare.pop(spare)[1]
        self._issued.append((prefix, value))
        return value

    def mark(self) -> None:
        self._issued = []

    def rewind(self) -> None:
        self._spare = self._issued + self._spare
        self._issued = []
