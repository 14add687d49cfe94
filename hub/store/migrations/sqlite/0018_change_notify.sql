-- Cross-node dashboard fan-out (LISTEN/NOTIFY) is PostgreSQL only; the column exists here
-- too so both back-ends share one schema history and one row mapping. See the PostgreSQL
-- migration of the same number.
ALTER TABLE alerts ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
