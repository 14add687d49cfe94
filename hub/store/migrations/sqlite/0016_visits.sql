-- Visits and follow-ups for elders living at home, and ratings of services (docs/visits.md).
-- care_profiles: the flags a visit cadence is derived from (living alone, left-behind elder
-- whose children work far away, risk level), one row a resident, kept apart from the
-- registry's residents table.
CREATE TABLE care_profiles (
    resident_id  TEXT PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    living_alone INTEGER NOT NULL DEFAULT 0,
    left_behind  INTEGER NOT NULL DEFAULT 0,
    risk_level   TEXT NOT NULL DEFAULT 'low' CHECK (risk_level IN ('low', 'medium', 'high')),
    updated_at   REAL NOT NULL
);
CREATE TABLE visit_plans (
    resident_id TEXT PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    cadence     TEXT NOT NULL CHECK (cadence IN ('weekly', 'fortnightly', 'monthly', 'by_risk')),
    window_days INTEGER NOT NULL CHECK (window_days BETWEEN 0 AND 14),
    weekday     INTEGER CHECK (weekday BETWEEN 0 AND 6),
    active      INTEGER NOT NULL DEFAULT 1,
    starts_on   TEXT NOT NULL,
    updated_at  REAL NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT ''
);
-- A task's id says where it came from (plan period, alert, discharge), so generating it
-- twice inserts nothing the second time.
CREATE TABLE visit_tasks (
    id          TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    station_id  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('visit', 'followup')),
    origin      TEXT NOT NULL CHECK (origin IN ('plan', 'alarm', 'discharge')),
    source_id   TEXT,
    due_on      TEXT NOT NULL,
    window_days INTEGER NOT NULL,
    overdue_at  REAL NOT NULL,
    created_at  REAL NOT NULL,
    state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
    note        TEXT NOT NULL DEFAULT '',
    alerted_at  REAL,
    done_at     REAL
);
CREATE INDEX visit_tasks_station_idx ON visit_tasks (station_id, state, due_on);
CREATE INDEX visit_tasks_resident_idx ON visit_tasks (resident_id, due_on);
CREATE INDEX visit_tasks_overdue_idx ON visit_tasks (overdue_at) WHERE state = 'open';
CREATE TABLE visit_records (
    task_id     TEXT PRIMARY KEY REFERENCES visit_tasks (id) ON DELETE CASCADE,
    resident_id TEXT NOT NULL,
    station_id  TEXT NOT NULL,
    visitor     TEXT NOT NULL,
    visited_at  REAL NOT NULL,
    recorded_at REAL NOT NULL,
    mood        TEXT NOT NULL,
    mobility    TEXT NOT NULL,
    living      TEXT NOT NULL,
    needs       TEXT NOT NULL DEFAULT '[]',
    notes       TEXT NOT NULL DEFAULT '',
    photo_ref   TEXT
);
-- Ratings of anything done for a resident: subject_kind 'visit' (a visit task) or 'order'
-- (a service order); one per subject and rater, edited in place.
CREATE TABLE ratings (
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    rater        TEXT NOT NULL,
    resident_id  TEXT NOT NULL,
    station_id   TEXT NOT NULL,
    score        INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      TEXT NOT NULL DEFAULT '',
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, rater)
);
CREATE INDEX ratings_station_idx ON ratings (station_id, created_at);
CREATE INDEX ratings_resident_idx ON ratings (resident_id, created_at);
-- follow-ups after an alarm: the resolved alerts since a watermark
CREATE INDEX alerts_resolved_updated_idx ON alerts (updated_at) WHERE state = 'resolved';
