-- At this version PostgreSQL replaces the B-tree on telemetry's receive time with a BRIN
-- index (postgres/0005). SQLite has no BRIN indexes: its index stays as it is, and this
-- file only keeps both back-ends at the same version.
SELECT 1;
