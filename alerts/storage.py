"""Between the store and the alert core: loading a :class:`~alerts.plan.World`, and
converting alerts and silences to and from their rows (an alert's stored version travels
on the :class:`~alerts.state.Alert` value, see :attr:`~alerts.state.Alert.version`; an
outbox row's on the row).

:class:`WorldLoader` answers the core's :class:`~alerts.plan.NeedData`: registry entries
come through the cached :class:`~alerts.directory.Directory`, alerts the core no longer
keeps (resolved) from the store. A resident's station comes along with the resident, as it
is what the core asks next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from alerts import state as st
from alerts.directory import Directory
from alerts.plan import Need, World
from alerts.rules import Silence
from hub.errors import NotFound
from hub.store.base import AlertRow, NotificationRow, SilenceRow, Store

Versioned = TypeVar("Versioned", st.Alert, NotificationRow)
"""What the store writes compare-and-set on its version."""


def to_row(a: st.Alert) -> AlertRow:
    return AlertRow(
        a.id, a.key, a.kind, a.state, a.priority, a.category, a.opened_at, a.updated_at,
        a.resident_id, a.device_id, a.station_id, a.next_deadline, a.to_dict(), a.trigger,
        a.version,
    )  # fmt: skip


def from_row(row: AlertRow) -> st.Alert:
    return replace(st.Alert.from_dict(row.data), version=row.version)


def written(v: Versioned) -> Versioned:
    """An alert or outbox row as the store holds it once written: one version on (a new one
    is version 1).

    >>> written(st.Alert("al-1", "r-1", "sos", "clinical", "high", True, 0.0, 0.0)).version
    1
    """
    return replace(v, version=v.version + 1)


def silence_from_row(r: SilenceRow) -> Silence:
    return Silence(
        r.id, r.start, r.end, r.author, r.reason, r.resident_id, r.device_id, r.kind,
        r.station_id, r.technical_only, r.created_at, r.cancelled_at,
    )  # fmt: skip


def silence_to_row(s: Silence) -> SilenceRow:
    return SilenceRow(
        s.id, s.start, s.end, s.author, s.reason, s.created_at, s.resident_id, s.device_id,
        s.kind, s.station_id, s.technical_only, s.cancelled_at,
    )  # fmt: skip


class WorldLoader:
    """Reads what the core asked for; see the module docstring."""

    def __init__(self, store: Store, directory: Directory) -> None:
        self.store = store
        self.directory = directory

    def load(self, world: World, needs: Iterable[Need]) -> World:
        """``world`` with ``needs`` read (and each loaded resident's station)."""
        tables: dict[str, dict[str, Any]] = {
            "device": dict(world.devices), "resident": dict(world.residents),
            "station": dict(world.stations), "contacts": dict(world.contacts),
            "worn": dict(world.worn), "alert": dict(world.alerts),
        }  # fmt: skip
        for table, key in sorted(needs):
            tables[table][key] = self.read(table, key)
        for resident in list(tables["resident"].values()):
            if resident is not None and resident.station_id not in tables["station"]:
                tables["station"][resident.station_id] = self.read("station", resident.station_id)
        return replace(world, devices=tables["device"], residents=tables["resident"],
                       stations=tables["station"], contacts=tables["contacts"],
                       worn=tables["worn"], alerts=tables["alert"])  # fmt: skip

    def read(self, table: str, key: str) -> Any:
        """One entry: ``table`` is ``device``, ``resident``, ``station``, ``contacts``,
        ``worn`` (a resident's devices) or ``alert``; None (or empty) when there is none."""
        if table == "alert":
            try:
                return from_row(self.store.get_alert(key))
            except NotFound:
                return None
        d = self.directory
        reads: dict[str, Callable[[str], Any]] = {
            "device": d.device, "resident": d.resident, "station": d.station,
            "contacts": d.contacts, "worn": d.resident_devices,
        }  # fmt: skip
        return reads[table](key)
