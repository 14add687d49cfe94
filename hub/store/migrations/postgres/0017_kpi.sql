-- Station KPIs (hub/kpi/, docs/kpi.md). The times a person acknowledged and resolved an
-- alert and its outcome live in `data` (the whole alert as JSON); the KPI queries read
-- them as columns computed from it, so nothing that writes alerts changes: seconds from
-- opening to acknowledgement and to resolution (NULL until they happen) and the outcome.
-- Both are differences of the exact floats kept in `data`, so SQLite and PostgreSQL give
-- identical durations.
ALTER TABLE alerts ADD COLUMN ack_s double precision
    GENERATED ALWAYS AS (((data ->> 'acked_at')::float8 - (data ->> 'opened_at')::float8)) STORED;
ALTER TABLE alerts ADD COLUMN resolve_s double precision
    GENERATED ALWAYS AS (((data ->> 'resolved_at')::float8 - (data ->> 'opened_at')::float8)) STORED;
ALTER TABLE alerts ADD COLUMN outcome text GENERATED ALWAYS AS (data ->> 'outcome') STORED;
-- Serves the alert KPI query (hub/store/postgres/kpi.py): the alerts of some stations
-- opened in a period, read from the index alone.
CREATE INDEX alerts_kpi_idx ON alerts (station_id, opened_at)
    INCLUDE (kind, ack_s, resolve_s, outcome);
