-- Outbox rows are written compare-and-set on their version; see the PostgreSQL migration
-- of the same number.
ALTER TABLE alert_notifications ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
