-- TimescaleDB on top of postgres/0001_init.sql: applied only when the extension is
-- available (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb').
--
-- References (TimescaleDB documentation; the generalized hypertable API of 2.13+):
--   create_hypertable(relation, dimension => by_range(column, interval), if_not_exists,
--   migrate_data):
--     https://www.tigerdata.com/docs/reference/timescaledb/hypertables/create_hypertable
--   ALTER TABLE ... SET (timescaledb.compress, compress_segmentby, compress_orderby):
--     https://www.tigerdata.com/docs/api/latest/compression/alter_table_compression
--   add_compression_policy(hypertable, compress_after, if_not_exists):
--     https://www.tigerdata.com/docs/api/latest/compression/add_compression_policy
--   add_retention_policy(relation, drop_after, if_not_exists):
--     https://www.tigerdata.com/docs/api/latest/data-retention/add_retention_policy/
--   CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous) ... WITH [NO] DATA:
--     https://www.tigerdata.com/docs/api/latest/continuous-aggregates/create_materialized_view
--   add_continuous_aggregate_policy(continuous_aggregate, start_offset, end_offset,
--   schedule_interval, if_not_exists):
--     https://www.tigerdata.com/docs/reference/timescaledb/continuous-aggregates/add_continuous_aggregate_policy
--   "WITH DATA cannot run inside a transaction block": timescale/timescaledb pull 2389.
-- The compression names (timescaledb.compress, add_compression_policy) are superseded by
-- the columnstore names since 2.18 but remain supported, and work on older releases too.

CREATE EXTENSION IF NOT EXISTS timescaledb;

-- Partition telemetry by device time. Its only unique key, (device_id, ts, seq), includes
-- the time column as a hypertable requires. migrate_data: the extension may arrive on a
-- database that already holds telemetry. A 6-hour chunk keeps a district's chunk (about
-- 10k wearables) well within memory.
SELECT create_hypertable(
    'telemetry',
    by_range('ts', INTERVAL '6 hours'),
    if_not_exists => TRUE,
    migrate_data => TRUE
);

-- Compress chunks older than a week, one segment per device, rows in time order: queries
-- are per device and time window. Every column of the unique key is a segmentby or orderby
-- column, so duplicate checks still work on compressed chunks.
ALTER TABLE telemetry SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'device_id',
    timescaledb.compress_orderby = 'ts DESC, seq DESC'
);

SELECT add_compression_policy('telemetry', compress_after => INTERVAL '7 days', if_not_exists => TRUE);

-- Raw telemetry is dropped after the retention interval (default 400 days: a year and a
-- season, enough for year-on-year baselines). The store sets carehub.telemetry_retention
-- for this transaction from its configuration; the per-minute aggregate is kept.
SELECT add_retention_policy(
    'telemetry',
    drop_after => COALESCE(
        NULLIF(current_setting('carehub.telemetry_retention', TRUE), ''), '400 days'
    )::interval,
    if_not_exists => TRUE
);

-- Per-minute, per-device summary of the vital signs for charts over long windows.
-- WITH NO DATA: a continuous aggregate created WITH DATA cannot run inside a transaction
-- block, and every migration runs in one; the refresh policy fills it.
CREATE MATERIALIZED VIEW IF NOT EXISTS vitals_1m
WITH (timescaledb.continuous) AS
SELECT
    device_id,
    time_bucket(INTERVAL '1 minute', ts) AS bucket,
    count(*) AS n,
    avg(hr) AS hr_avg, min(hr) AS hr_min, max(hr) AS hr_max,
    avg(spo2) AS spo2_avg, min(spo2) AS spo2_min, max(spo2) AS spo2_max,
    avg(rr) AS rr_avg, min(rr) AS rr_min, max(rr) AS rr_max,
    avg(temp) AS temp_avg, min(temp) AS temp_min, max(temp) AS temp_max,
    avg(sbp) AS sbp_avg, min(sbp) AS sbp_min, max(sbp) AS sbp_max,
    avg(dbp) AS dbp_avg, min(dbp) AS dbp_min, max(dbp) AS dbp_max
FROM telemetry
GROUP BY device_id, bucket
WITH NO DATA;

-- Refresh the last two hours every minute, leaving out the minute still being written;
-- the window spans more than two buckets as the policy requires.
SELECT add_continuous_aggregate_policy(
    'vitals_1m',
    start_offset => INTERVAL '2 hours',
    end_offset => INTERVAL '1 minute',
    schedule_interval => INTERVAL '1 minute',
    if_not_exists => TRUE
);
