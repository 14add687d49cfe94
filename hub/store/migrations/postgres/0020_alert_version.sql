-- Several processes write alerts (cluster workers, dashboard nodes), each from its own copy
-- in memory. An update names the version it read and moves it on by one only where the row
-- still has it (compare-and-set, hub.store.shared_alerts); otherwise the step is refused
-- (hub.errors.AlertConflict) and decided again on the alert as stored. A new alert is
-- version 1, and so are the alerts stored before this migration.
ALTER TABLE alerts ADD COLUMN version bigint NOT NULL DEFAULT 1;
