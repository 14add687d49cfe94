"""Services, care workers and orders (:class:`~hub.store.protocols.services.ServiceStore`):
SQL both back-ends share but for the parameter mark, how times and JSON are passed
(``_at``, ``_json``) and read back (``_rows``). Each back-end's ``services`` module mixes
this into its store; the row mappings of this area live here, next to their columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.errors import Conflict, NotFound
from hub.store.protocols.services import CareWorker, Order, OrderEvent, OrderStatus, Service
from hub.store.shared_writes import SharedWrites

SERVICE_COLS = (
    "id, station_id, kind, name, duration_min, price_cents, subsidy_cents, skills, active,"
    " created_at"
)
WORKER_COLS = (
    "id, station_id, name, user_id, phone, skills, hours, lat, lon, position_at, active, created_at"
)
ORDER_COLS = (
    "id, station_id, resident_id, service_id, kind, scheduled_at, duration_min, status,"
    " price_cents, subsidy_cents, created_by, created_at, updated_at, worker_id, alert_id,"
    " notes"
)
EVENT_COLS = "order_id, at, actor, to_status, from_status, worker_id, lat, lon, detail, id"


class SharedServices(SharedWrites):
    """See the module docstring."""

    # --- rows to records ------------------------------------------------------------------

    def _service(self, r: Sequence[Any]) -> Service:
        return Service(r[0], r[1], r[2], r[3], r[4], r[5], r[6], tuple(self._rows.json(r[7])),
                       bool(r[8]), self._rows.ts(r[9]))  # fmt: skip

    def _worker(self, r: Sequence[Any]) -> CareWorker:
        return CareWorker(
            r[0], r[1], r[2], r[3], r[4], tuple(self._rows.json(r[5])), self._rows.json(r[6]),
            r[7], r[8], self._rows.opt_ts(r[9]), bool(r[10]), self._rows.ts(r[11]),
        )  # fmt: skip

    def _order(self, r: Sequence[Any]) -> Order:
        ts = self._rows.ts
        return Order(r[0], r[1], r[2], r[3], r[4], ts(r[5]), r[6], r[7], r[8], r[9], r[10],
                     ts(r[11]), ts(r[12]), r[13], r[14], r[15])  # fmt: skip

    def _event(self, r: Sequence[Any]) -> OrderEvent:
        return OrderEvent(r[0], self._rows.ts(r[1]), r[2], r[3], r[4], r[5], r[6], r[7],
                          self._rows.json(r[8]), r[9])  # fmt: skip

    def _equal(self, **equal: Any) -> tuple[str, list[Any]]:
        """`` WHERE a = ? AND ...`` for the arguments that are not None (names are ours)."""
        used = [(k, v) for k, v in equal.items() if v is not None]
        if not used:
            return "", []
        return " WHERE " + " AND ".join(f"{k} = {self._mark}" for k, _ in used), [
            v for _, v in used
        ]

    # --- services -------------------------------------------------------------------------

    def add_service(self, service: Service) -> None:
        s = service
        self._insert(f"add service {s.id!r}", "services", SERVICE_COLS, (
            s.id, s.station_id, s.kind, s.name, s.duration_min, s.price_cents,
            s.subsidy_cents, self._json(list(s.skills)), s.active, self._at(s.created_at),
        ))  # fmt: skip

    def update_service(self, service: Service) -> None:
        s, m = service, self._mark
        self._write(
            f"update service {s.id!r}",
            f"UPDATE services SET kind = {m}, name = {m}, duration_min = {m}, price_cents = {m},"
            f" subsidy_cents = {m}, skills = {m}, active = {m} WHERE id = {m}",
            (s.kind, s.name, s.duration_min, s.price_cents, s.subsidy_cents,
             self._json(list(s.skills)), s.active, s.id),
            must_match=f"service {s.id!r}",
        )  # fmt: skip

    def get_service(self, service_id: str) -> Service:
        sql = f"SELECT {SERVICE_COLS} FROM services"
        return self._service(self._by_id(sql, "id", service_id, f"service {service_id!r}"))

    def list_services(self, station_id: str | None = None) -> list[Service]:
        clause, params = self._equal(station_id=station_id)
        rows = self._query(
            f"SELECT {SERVICE_COLS} FROM services{clause} ORDER BY station_id, kind, id", params
        )
        return [self._service(r) for r in rows]

    # --- care workers ---------------------------------------------------------------------

    def add_worker(self, worker: CareWorker) -> None:
        w = worker
        self._insert(f"add care worker {w.id!r}", "care_workers", WORKER_COLS, (
            w.id, w.station_id, w.name, w.user_id, w.phone, self._json(list(w.skills)),
            self._json(w.hours), w.lat, w.lon, self._opt_at(w.position_at), w.active,
            self._at(w.created_at),
        ))  # fmt: skip

    def update_worker(self, worker: CareWorker) -> None:
        w, m = worker, self._mark
        self._write(
            f"update care worker {w.id!r}",
            f"UPDATE care_workers SET name = {m}, user_id = {m}, phone = {m}, skills = {m},"
            f" hours = {m}, active = {m} WHERE id = {m}",
            (w.name, w.user_id, w.phone, self._json(list(w.skills)), self._json(w.hours),
             w.active, w.id),
            must_match=f"care worker {w.id!r}",
        )  # fmt: skip

    def set_worker_position(self, worker_id: str, lat: float, lon: float, at: float) -> bool:
        m = self._mark
        with self._transaction("worker position") as conn:
            cur = conn.execute(
                f"UPDATE care_workers SET lat = {m}, lon = {m}, position_at = {m}"
                f" WHERE id = {m} AND (position_at IS NULL OR position_at <= {m})",
                (lat, lon, self._at(at), worker_id, self._at(at)),
            )
            if cur.rowcount:
                return True
            found = conn.execute(f"SELECT 1 FROM care_workers WHERE id = {m}", (worker_id,))
            if found.fetchone() is None:
                raise NotFound(f"care worker {worker_id!r}")
            return False

    def get_worker(self, worker_id: str) -> CareWorker:
        sql = f"SELECT {WORKER_COLS} FROM care_workers"
        return self._worker(self._by_id(sql, "id", worker_id, f"care worker {worker_id!r}"))

    def list_workers(
        self, station_id: str | None = None, *, user_id: str | None = None
    ) -> list[CareWorker]:
        clause, params = self._equal(station_id=station_id, user_id=user_id)
        rows = self._query(f"SELECT {WORKER_COLS} FROM care_workers{clause} ORDER BY id", params)
        return [self._worker(r) for r in rows]

    # --- orders ---------------------------------------------------------------------------

    def _order_params(self, o: Order) -> tuple[Any, ...]:
        return (
            o.id, o.station_id, o.resident_id, o.service_id, o.kind, self._at(o.scheduled_at),
            o.duration_min, o.status, o.price_cents, o.subsidy_cents, o.created_by,
            self._at(o.created_at), self._at(o.updated_at), o.worker_id, o.alert_id, o.notes,
        )  # fmt: skip

    def _add_event(self, conn: Any, e: OrderEvent) -> None:
        conn.execute(
            "INSERT INTO service_order_events (order_id, at, actor, to_status, from_status,"
            f" worker_id, lat, lon, detail) VALUES ({self._marks(9)})",
            (e.order_id, self._at(e.at), e.actor, e.to_status, e.from_status, e.worker_id,
             e.lat, e.lon, self._json(e.detail, ensure_ascii=False)),
        )  # fmt: skip

    def add_order(self, order: Order, event: OrderEvent) -> None:
        with self._transaction(f"add order {order.id!r}") as conn:
            conn.execute(
                f"INSERT INTO service_orders ({ORDER_COLS}) VALUES ({self._marks(16)})",
                self._order_params(order),
            )
            self._add_event(conn, event)

    def change_order(self, order: Order, expected: OrderStatus, event: OrderEvent) -> None:
        m, o = self._mark, order
        with self._transaction(f"change order {o.id!r}") as conn:
            cur = conn.execute(
                f"UPDATE service_orders SET status = {m}, worker_id = {m}, notes = {m},"
                f" updated_at = {m} WHERE id = {m} AND status = {m}",
                (o.status, o.worker_id, o.notes, self._at(o.updated_at), o.id, expected),
            )
            if cur.rowcount == 0:
                row = conn.execute(
                    f"SELECT status FROM service_orders WHERE id = {m}", (o.id,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"order {o.id!r}")
                raise Conflict(f"order {o.id!r} is {row[0]}, not {expected}")
            self._add_event(conn, event)

    def get_order(self, order_id: str) -> Order:
        sql = f"SELECT {ORDER_COLS} FROM service_orders"
        return self._order(self._by_id(sql, "id", order_id, f"order {order_id!r}"))

    def order_for_alert(self, alert_id: str) -> Order | None:
        m = self._mark
        rows = self._query(
            f"SELECT {ORDER_COLS} FROM service_orders WHERE alert_id = {m}", (alert_id,)
        )
        return self._order(rows[0]) if rows else None

    def list_orders(
        self, *, station_ids: list[str] | None = None, worker_id: str | None = None,
        statuses: list[str] | None = None, since: float | None = None,
        until: float | None = None, limit: int = 1000, resident_id: str | None = None,
        newest_first: bool = False,
    ) -> list[Order]:  # fmt: skip
        m = self._mark
        where: list[str] = []
        params: list[Any] = []
        for column, values in (("station_id", station_ids), ("status", statuses)):
            if values is not None:
                if not values:
                    return []
                where.append(f"{column} IN ({self._marks(len(values))})")
                params += values
        for column, value in (("worker_id", worker_id), ("resident_id", resident_id)):
            if value is not None:
                where.append(f"{column} = {m}")
                params.append(value)
        if since is not None:
            where.append(f"scheduled_at >= {m}")
            params.append(self._at(since))
        if until is not None:
            where.append(f"scheduled_at < {m}")
            params.append(self._at(until))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(
            f"SELECT {ORDER_COLS} FROM service_orders{clause}"
            f" ORDER BY {'scheduled_at DESC, id DESC' if newest_first else 'scheduled_at, id'}"
            f" LIMIT {int(limit)}",
            params,
        )
        return [self._order(r) for r in rows]

    def order_events(self, order_id: str) -> list[OrderEvent]:
        rows = self._query(
            f"SELECT {EVENT_COLS} FROM service_order_events WHERE order_id = {self._mark}"
            " ORDER BY id",
            (order_id,),
        )
        return [self._event(r) for r in rows]
