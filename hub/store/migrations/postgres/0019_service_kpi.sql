-- A resident's completed services on the family page (dashboard/routers/resident_orders.py).
CREATE INDEX service_orders_resident_idx ON service_orders (resident_id, scheduled_at);
-- Visits done on schedule (docs/kpi.md): the tasks of some stations whose window closed in
-- a period.
CREATE INDEX visit_tasks_kpi_idx ON visit_tasks (station_id, overdue_at);
-- Time to arrive and orders done on time: the first check-in and the first completion of
-- each order, read from the index alone.
CREATE INDEX service_order_events_step_idx ON service_order_events (to_status, order_id, at)
    WHERE to_status IN ('arrived', 'done');
