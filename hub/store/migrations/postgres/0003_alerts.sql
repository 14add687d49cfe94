-- Alerts: the engine's state (alerts/), its append-only timeline, the notification outbox,
-- silences and maintenance windows, and escalation policies per station.
-- `data` holds the whole alert as JSON (authoritative, exact floats); the other columns
-- are copies for queries. `open_key` is subject|kind while the alert is not resolved and
-- NULL after: the unique index keeps one unresolved alert per resident (or device) and kind.
CREATE TABLE alerts (
    id            text PRIMARY KEY,
    open_key      text,
    kind          text NOT NULL,
    state         text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    priority      text NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    category      text NOT NULL CHECK (category IN ('clinical', 'technical')),
    resident_id   text,
    device_id     text,
    station_id    text,
    opened_at     timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    next_deadline timestamptz,
    data          jsonb NOT NULL
);
CREATE UNIQUE INDEX alerts_open_key_idx ON alerts (open_key);
CREATE INDEX alerts_station_idx ON alerts (station_id, state, opened_at);
CREATE INDEX alerts_resident_idx ON alerts (resident_id, opened_at);
CREATE INDEX alerts_state_idx ON alerts (state, next_deadline);

-- Append-only: the store offers no way to change or delete an entry.
CREATE TABLE alert_timeline (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id    text NOT NULL,
    resident_id text,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_timeline_alert_idx ON alert_timeline (alert_id, at);
CREATE INDEX alert_timeline_resident_idx ON alert_timeline (resident_id, at);

-- The outbox: written in the same transaction as the escalation step that creates it, so a
-- restart neither forgets nor repeats a round. `key` is the idempotency key.
CREATE TABLE alert_notifications (
    key        text PRIMARY KEY,
    alert_id   text NOT NULL,
    round      text NOT NULL,
    target     text NOT NULL,
    channel    text NOT NULL,
    contact_id text,
    language   text NOT NULL DEFAULT 'zh-CN',
    state      text NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts   integer NOT NULL DEFAULT 0,
    last_error text,
    due_at     timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sent_at    timestamptz
);
CREATE INDEX alert_notifications_due_idx ON alert_notifications (state, due_at);
CREATE INDEX alert_notifications_alert_idx ON alert_notifications (alert_id, created_at);

CREATE TABLE alert_silences (
    id             text PRIMARY KEY,
    start_at       timestamptz NOT NULL,
    end_at         timestamptz NOT NULL,
    author         text NOT NULL,
    reason         text NOT NULL,
    resident_id    text,
    device_id      text,
    kind           text,
    station_id     text,
    technical_only boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL,
    cancelled_at   timestamptz,
    cancelled_by   text,
    CHECK (end_at > start_at)
);
CREATE INDEX alert_silences_end_idx ON alert_silences (end_at);

CREATE TABLE escalation_policies (
    station_id text PRIMARY KEY,
    policy     jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);
