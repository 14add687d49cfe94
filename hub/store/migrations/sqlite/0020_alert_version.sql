-- Alerts are written compare-and-set on their version; see the PostgreSQL migration of the
-- same number.
ALTER TABLE alerts ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
