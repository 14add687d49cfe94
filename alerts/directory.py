"""What the engine needs to know about the world, read from the store with a short cache.

The engine asks for devices, residents (their status: home, away, hospital), stations
(time zone, name), contacts and policies at every finding; a few seconds of caching keeps
a burst of findings from turning into a burst of queries, and :meth:`invalidate` makes a
change (a resident marked away) visible at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from hub.errors import NotFound
from hub.store.base import Contact, Device, Resident, Station, Store


class Directory(Protocol):
    def device(self, device_id: str) -> Device | None: ...
    def resident(self, resident_id: str) -> Resident | None: ...
    def station(self, station_id: str) -> Station | None: ...
    def contacts(self, resident_id: str) -> list[Contact]: ...
    def resident_devices(self, resident_id: str) -> list[Device]: ...


class StoreDirectory:
    """:class:`Directory` over a :class:`~hub.store.base.Store`, cached for ``ttl_s``."""

    def __init__(
        self, store: Store, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    def _get(self, kind: str, key: str, load: Callable[[], Any]) -> Any:
        now = self._clock()
        hit = self._cache.get((kind, key))
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        try:
            value = load()
        except NotFound:
            value = None
        if self.ttl_s > 0:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[(kind, key)] = (now, value)
        return value

    def device(self, device_id: str) -> Device | None:
        value: Device | None = self._get("d", device_id, lambda: self.store.get_device(device_id))
        return value

    def resident(self, resident_id: str) -> Resident | None:
        value: Resident | None = self._get(
            "r", resident_id, lambda: self.store.get_resident(resident_id)
        )
        return value

    def station(self, station_id: str) -> Station | None:
        value: Station | None = self._get(
            "s", station_id, lambda: self.store.get_station(station_id)
        )
        return value

    def contacts(self, resident_id: str) -> list[Contact]:
        value: list[Contact] = self._get(
            "c", resident_id, lambda: self.store.list_contacts(resident_id)
        )
        return value

    def resident_devices(self, resident_id: str) -> list[Device]:
        value: list[Device] = self._get(
            "rd", resident_id, lambda: self.store.list_devices(resident_id=resident_id)
        )
        return value
