-- Cross-node dashboard fan-out (LISTEN/NOTIFY) and partition snapshots are PostgreSQL only;
-- the column and the table exist here too so both back-ends share one schema history. See
-- the PostgreSQL migration of the same number.
ALTER TABLE alerts ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE partition_snapshot (
    partition  INTEGER PRIMARY KEY,
    epoch      INTEGER NOT NULL,
    stream_seq INTEGER NOT NULL,
    taken_at   REAL NOT NULL,
    state      TEXT NOT NULL
);
