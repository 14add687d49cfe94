-- Cross-node dashboard fan-out (LISTEN/NOTIFY), partition snapshots and storm sources serve
-- the cluster mode, PostgreSQL only; they exist here too so both back-ends share one schema
-- history. See the PostgreSQL migration of the same number.
ALTER TABLE alerts ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE partition_snapshot (
    partition  INTEGER PRIMARY KEY,
    epoch      INTEGER NOT NULL,
    stream_seq INTEGER NOT NULL,
    taken_at   REAL NOT NULL,
    state      TEXT NOT NULL
);
CREATE TABLE storm_sources (
    storm_key TEXT NOT NULL,
    source    TEXT NOT NULL,
    devices   INTEGER NOT NULL,
    at        REAL NOT NULL,
    PRIMARY KEY (storm_key, source)
);
