"""The live registry: one snapshot of stations, residents and devices for the whole hub
process, and change events when it moves.

Before it, every component kept its own copy (the ingest pipeline's devices, the
detectors' residents and time zones, the alert engine's cached directory, the dashboard's
resident → station map) and refreshed it on its own schedule or never, so a resident added
while the hub ran could stay invisible to the console. Now there is one
:class:`RegistrySnapshot`; :meth:`LiveRegistry.refresh` reloads it from the store, works out
what changed (:func:`diff`, pure) and tells every listener with the new snapshot and the
changes, on the event loop, in one go.

Who refreshes: a write made through this process (REST, CSV import in the dashboard) calls
``await registry.refresh()`` right after its commit, so it is live at once; a write made by
another process (the ``carehub`` CLI, another hub node) is picked up by the periodic
refresh every ``refresh_s``.

>>> from hub.store.base import Resident
>>> old = RegistrySnapshot.of([], [Resident("r-1", "st-1", "A")], [])
>>> new = RegistrySnapshot.of([], [Resident("r-1", "st-2", "A"), Resident("r-2", "st-1", "B")], [])
>>> [(c.kind, c.id, c.action) for c in diff(old, new)]
[('resident', 'r-1', 'changed'), ('resident', 'r-2', 'added')]
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from hub.errors import CarehubError
from hub.store.base import Device, Resident, Station, Store
from hub.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Kind = Literal["station", "resident", "device"]


@dataclass(frozen=True, slots=True)
class RegistrySnapshot:
    """Everything registered, by id (read-only mappings: share it, never change it)."""

    stations: Mapping[str, Station] = field(default_factory=lambda: MappingProxyType({}))
    residents: Mapping[str, Resident] = field(default_factory=lambda: MappingProxyType({}))
    devices: Mapping[str, Device] = field(default_factory=lambda: MappingProxyType({}))
    version: int = 0

    @classmethod
    def of(
        cls, stations: Iterable[Station], residents: Iterable[Resident],
        devices: Iterable[Device], version: int = 0,
    ) -> RegistrySnapshot:  # fmt: skip
        return cls(
            MappingProxyType({s.id: s for s in stations}),
            MappingProxyType({r.id: r for r in residents}),
            MappingProxyType({d.id: d for d in devices}),
            version,
        )

    def station_of(self, resident_id: str | None) -> str | None:
        """The station of a resident (None when unknown or not given)."""
        r = self.residents.get(resident_id) if resident_id else None
        return r.station_id if r else None

    def devices_of(self, resident_id: str) -> list[Device]:
        return [d for d in self.devices.values() if d.resident_id == resident_id]


@dataclass(frozen=True, slots=True)
class Change:
    """One entity that appeared, changed or disappeared between two snapshots."""

    kind: Kind
    id: str
    before: Any = None
    after: Any = None

    @property
    def action(self) -> Literal["added", "changed", "removed"]:
        if self.before is None:
            return "added"
        return "removed" if self.after is None else "changed"


def diff(old: RegistrySnapshot, new: RegistrySnapshot) -> list[Change]:
    """What differs from ``old`` to ``new``: stations first, then residents, then devices
    (so a listener meets a new station before its residents), each by id."""
    out: list[Change] = []
    pairs: tuple[tuple[Kind, Mapping[str, Any], Mapping[str, Any]], ...] = (
        ("station", old.stations, new.stations),
        ("resident", old.residents, new.residents),
        ("device", old.devices, new.devices),
    )
    for kind, before, after in pairs:
        for key in sorted(before.keys() | after.keys()):
            a, b = before.get(key), after.get(key)
            if a != b:
                out.append(Change(kind, key, a, b))
    return out


Listener = Callable[[RegistrySnapshot, list[Change]], None]


class LiveRegistry:
    """The hub's one registry snapshot, kept current, with change listeners.

    Listeners are called on the event loop after each refresh that changed something (and
    once after the first load with no changes, so they can take the initial snapshot);
    one that raises is logged and the others still run.
    """

    def __init__(
        self, store: Store, *, refresh_s: float = 5.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.store = store
        self.refresh_s = refresh_s
        self.sleep = sleep
        self.snapshot = RegistrySnapshot()
        self.loaded = False
        self.listeners: list[Listener] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def add_listener(self, fn: Listener) -> None:
        self.listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        with contextlib.suppress(ValueError):
            self.listeners.remove(fn)

    async def start(self) -> None:
        """Load the first snapshot and keep it current every ``refresh_s``."""
        await self.refresh()
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="registry-refresh")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def ensure_loaded(self) -> RegistrySnapshot:
        if not self.loaded:
            await self.refresh()
        return self.snapshot

    async def refresh(self) -> list[Change]:
        """Reload from the store; tell the listeners what changed. Returns the changes."""
        async with self._lock:  # one reload at a time: changes are reported once, in order
            new = await asyncio.to_thread(self._load, self.snapshot.version + 1)
            first = not self.loaded
            changes = [] if first else diff(self.snapshot, new)
            if not first and not changes:
                return []
            self.snapshot = new
            self.loaded = True
            for fn in list(self.listeners):
                try:
                    fn(new, changes)
                except Exception:
                    log.exception("a registry listener failed")
            return changes

    def _load(self, version: int) -> RegistrySnapshot:
        s = self.store
        return RegistrySnapshot.of(s.list_stations(), s.list_residents(), s.list_devices(),
                                   version)  # fmt: skip

    async def _loop(self) -> None:
        while True:
            await self.sleep(self.refresh_s)
            try:
                await self.refresh()
            except CarehubError as exc:
                log.warning("registry refresh failed: %s", exc)
