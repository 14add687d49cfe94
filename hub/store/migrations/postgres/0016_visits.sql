-- Visits and follow-ups for elders living at home, and ratings of services (docs/visits.md).
-- care_profiles: the flags a visit cadence is derived from (living alone, left-behind elder
-- whose children work far away, risk level), one row a resident, kept apart from the
-- registry's residents table.
CREATE TABLE care_profiles (
    resident_id  text PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    living_alone boolean NOT NULL DEFAULT false,
    left_behind  boolean NOT NULL DEFAULT false,
    risk_level   text NOT NULL DEFAULT 'low' CHECK (risk_level IN ('low', 'medium', 'high')),
    updated_at   timestamptz NOT NULL
);
CREATE TABLE visit_plans (
    resident_id text PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    cadence     text NOT NULL CHECK (cadence IN ('weekly', 'fortnightly', 'monthly', 'by_risk')),
    window_days integer NOT NULL CHECK (window_days BETWEEN 0 AND 14),
    weekday     integer CHECK (weekday BETWEEN 0 AND 6),
    active      boolean NOT NULL DEFAULT true,
    starts_on   date NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  text NOT NULL DEFAULT ''
);
-- A task's id says where it came from (plan period, alert, discharge), so generating it
-- twice inserts nothing the second time.
CREATE TABLE visit_tasks (
    id          text PRIMARY KEY,
    resident_id text NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    station_id  text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('visit', 'followup')),
    origin      text NOT NULL CHECK (origin IN ('plan', 'alarm', 'discharge')),
    source_id   text,
    due_on      date NOT NULL,
    window_days integer NOT NULL,
    overdue_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
    note        text NOT NULL DEFAULT '',
    alerted_at  timestamptz,
    done_at     timestamptz
);
CREATE INDEX visit_tasks_station_idx ON visit_tasks (station_id, state, due_on);
CREATE INDEX visit_tasks_resident_idx ON visit_tasks (resident_id, due_on);
CREATE INDEX visit_tasks_overdue_idx ON visit_tasks (overdue_at) WHERE state = 'open';
CREATE TABLE visit_records (
    task_id     text PRIMARY KEY REFERENCES visit_tasks (id) ON DELETE CASCADE,
    resident_id text NOT NULL,
    station_id  text NOT NULL,
    visitor     text NOT NULL,
    visited_at  timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    mood        text NOT NULL,
    mobility    text NOT NULL,
    living      text NOT NULL,
    needs       jsonb NOT NULL DEFAULT '[]',
    notes       text NOT NULL DEFAULT '',
    photo_ref   text
);
-- Ratings of anything done for a resident: subject_kind 'visit' (a visit task) or 'order'
-- (a service order); one per subject and rater, edited in place.
CREATE TABLE ratings (
    subject_kind text NOT NULL,
    subject_id   text NOT NULL,
    rater        text NOT NULL,
    resident_id  text NOT NULL,
    station_id   text NOT NULL,
    score        integer NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, rater)
);
CREATE INDEX ratings_station_idx ON ratings (station_id, created_at);
CREATE INDEX ratings_resident_idx ON ratings (resident_id, created_at);
-- follow-ups after an alarm: the resolved alerts since a watermark
CREATE INDEX alerts_resolved_updated_idx ON alerts (updated_at) WHERE state = 'resolved';
