-- The index on telemetry's receive time serves one query: the duplicate filter's warm-up
-- after a restart (rows received in the last few hours). The hub appends rows in the order
-- it receives them, so receive time follows the table's physical order and a BRIN index
-- (a few pages, one summary per block range) finds them as well as a B-tree did, while a
-- B-tree entry per row was about a sixth of the server's time for a COPY batch (measured
-- with bench/ingest.py's COPY comparison). On TimescaleDB the index is created on every
-- chunk of the hypertable; chunks are by device time, which stays close to receive time.
DROP INDEX IF EXISTS telemetry_received_idx;
CREATE INDEX telemetry_received_brin ON telemetry USING brin (received_at);
