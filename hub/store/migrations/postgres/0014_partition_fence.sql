-- Cluster mode (carehub worker): who owns each partition of the device stream, under
-- which epoch, and the last stream sequence committed under it. A worker's commit updates
-- its partition's row in the same transaction, matching its epoch; a worker that lost the
-- partition (paused past its lease, say) matches no row and its commit is refused.
CREATE TABLE partition_fence (
    partition     integer PRIMARY KEY,
    epoch         bigint NOT NULL,
    owner         text NOT NULL,
    committed_seq bigint NOT NULL DEFAULT 0,
    claimed_at    timestamptz NOT NULL
);
