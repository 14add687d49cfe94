"""Community services: each station's service catalogue, its care workers, orders of a
service for a resident and every order's audit trail (migration 0015, docs/services.md).

Money is integer cents (fen). Times are epoch seconds, UTC. A worker's ``hours`` are weekly
working hours in the station's time zone: weekday (``"0"`` Monday … ``"6"`` Sunday) →
list of ``["HH:MM", "HH:MM"]`` spans (see :mod:`hub.dispatch.hours`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

ServiceKind = Literal[
    "meal_delivery", "bathing", "checkup", "cleaning", "companionship", "emergency_visit"
]
SERVICE_KINDS: tuple[ServiceKind, ...] = (
    "meal_delivery", "bathing", "checkup", "cleaning", "companionship", "emergency_visit",
)  # fmt: skip
OrderStatus = Literal["open", "assigned", "accepted", "arrived", "done", "cancelled"]
ORDER_STATUSES: tuple[OrderStatus, ...] = (
    "open", "assigned", "accepted", "arrived", "done", "cancelled",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Service:
    """One service a station offers: how long it takes, what it costs, what it needs."""

    id: str
    station_id: str
    kind: ServiceKind
    name: str
    duration_min: int
    price_cents: int
    subsidy_cents: int = 0
    skills: tuple[str, ...] = ()
    active: bool = True
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class CareWorker:
    """A care worker of a station; ``user_id`` is the dashboard user who acts as them."""

    id: str
    station_id: str
    name: str
    user_id: str | None = None
    phone: str | None = None
    skills: tuple[str, ...] = ()
    hours: dict[str, list[list[str]]] = field(default_factory=dict)
    lat: float | None = None
    lon: float | None = None
    position_at: float | None = None
    active: bool = True
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Order:
    """A service for a resident at a time. Price and subsidy are copied from the service
    when the order is made, so later catalogue changes do not rewrite history."""

    id: str
    station_id: str
    resident_id: str
    service_id: str
    kind: ServiceKind
    scheduled_at: float
    duration_min: int
    status: OrderStatus
    price_cents: int
    subsidy_cents: int
    created_by: str
    created_at: float
    updated_at: float
    worker_id: str | None = None
    alert_id: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One step of an order's audit trail: who moved it from which status to which, when,
    for which worker, and where they were (check-in position)."""

    order_id: str
    at: float
    actor: str
    to_status: OrderStatus
    from_status: OrderStatus | None = None
    worker_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@runtime_checkable
class ServiceStore(Protocol):
    """Service catalogue, care workers, orders and their audit trail."""

    def add_service(self, service: Service) -> None:
        """Raises Conflict when the id exists or the station is unknown."""
        ...

    def update_service(self, service: Service) -> None:
        """Replace every field but the id and station; raises NotFound."""
        ...

    def get_service(self, service_id: str) -> Service:
        """Raises NotFound."""
        ...

    def list_services(self, station_id: str | None = None) -> list[Service]:
        """By station, kind and id (inactive ones too)."""
        ...

    def add_worker(self, worker: CareWorker) -> None:
        """Raises Conflict when the id exists or the user already acts as another worker."""
        ...

    def update_worker(self, worker: CareWorker) -> None:
        """Replace every field but the id, station and position; raises NotFound."""
        ...

    def set_worker_position(self, worker_id: str, lat: float, lon: float, at: float) -> bool:
        """Record a reported position; False (nothing changed) when a newer one is already
        kept, so a delayed report never moves a worker back. Raises NotFound."""
        ...

    def get_worker(self, worker_id: str) -> CareWorker:
        """Raises NotFound."""
        ...

    def list_workers(
        self, station_id: str | None = None, *, user_id: str | None = None
    ) -> list[CareWorker]:
        """By id; ``user_id``: the worker that user acts as (at most one)."""
        ...

    def add_order(self, order: Order, event: OrderEvent) -> None:
        """Store a new order with its first audit step. Conflict when the id exists, or when
        ``order.alert_id`` already has an order (one emergency visit per alert)."""
        ...

    def change_order(self, order: Order, expected: OrderStatus, event: OrderEvent) -> None:
        """Replace the order's status, worker and notes when its stored status is still
        ``expected`` and append ``event``, in one transaction. Conflict when the status
        moved meanwhile (nothing written); NotFound when there is no such order."""
        ...

    def get_order(self, order_id: str) -> Order:
        """Raises NotFound."""
        ...

    def order_for_alert(self, alert_id: str) -> Order | None: ...

    def list_orders(
        self, *, station_ids: list[str] | None = None, worker_id: str | None = None,
        statuses: list[str] | None = None, since: float | None = None,
        until: float | None = None, limit: int = 1000, resident_id: str | None = None,
        newest_first: bool = False,
    ) -> list[Order]:  # fmt: skip
        """Orders by scheduled time then id (``newest_first``: the latest first);
        ``since``/``until`` bound ``scheduled_at`` (``until`` exclusive); None for a filter
        means any."""
        ...

    def order_events(self, order_id: str) -> list[OrderEvent]:
        """The audit trail, oldest first."""
        ...
