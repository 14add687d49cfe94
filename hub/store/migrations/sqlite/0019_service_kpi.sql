-- A resident's completed services on the family page (dashboard/routers/resident_orders.py).
CREATE INDEX service_orders_resident_idx ON service_orders (resident_id, scheduled_at);
-- Visits done on schedule (docs/kpi.md): the tasks of some stations whose window closed in
-- a period.
CREATE INDEX visit_tasks_kpi_idx ON visit_tasks (station_id, overdue_at);
