-- Cluster mode (carehub worker) runs on PostgreSQL only; the table exists here too so both
-- back-ends share one schema history. See the PostgreSQL migration of the same number.
CREATE TABLE partition_fence (
    partition     INTEGER PRIMARY KEY,
    epoch         INTEGER NOT NULL,
    owner         TEXT NOT NULL,
    committed_seq INTEGER NOT NULL DEFAULT 0,
    claimed_at    REAL NOT NULL
);
