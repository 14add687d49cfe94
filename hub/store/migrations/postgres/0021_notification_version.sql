-- Outbox rows are written compare-and-set on a version, as alerts are (0020): the worker
-- running the timers records what became of a message while a dashboard node may cancel it
-- (staff acknowledged). An update names the version it read and moves it on by one only
-- where the row still has it (hub.store.shared_alerts); otherwise the step is refused
-- (hub.errors.AlertConflict) and decided again on the row as stored, so a cancellation is
-- never overwritten by a delivery result. Rows stored before this migration are version 1,
-- as a new row is.
ALTER TABLE alert_notifications ADD COLUMN version bigint NOT NULL DEFAULT 1;
