-- Station KPIs (hub/kpi/, docs/kpi.md). The times a person acknowledged and resolved an
-- alert and its outcome live in `data` (the whole alert as JSON); the KPI queries read
-- them as columns computed from it, so nothing that writes alerts changes: seconds from
-- opening to acknowledgement and to resolution (NULL until they happen) and the outcome.
-- SQLite adds generated columns as VIRTUAL only; the index below stores them.
ALTER TABLE alerts ADD COLUMN ack_s REAL
    GENERATED ALWAYS AS (json_extract(data, '$.acked_at') - json_extract(data, '$.opened_at')) VIRTUAL;
ALTER TABLE alerts ADD COLUMN resolve_s REAL
    GENERATED ALWAYS AS (json_extract(data, '$.resolved_at') - json_extract(data, '$.opened_at')) VIRTUAL;
ALTER TABLE alerts ADD COLUMN outcome TEXT GENERATED ALWAYS AS (json_extract(data, '$.outcome')) VIRTUAL;
-- Serves the alert KPI query (hub/store/sqlite/kpi.py).
CREATE INDEX alerts_kpi_idx ON alerts (station_id, opened_at, kind, ack_s, resolve_s, outcome);
