-- Alerts: the engine's state (alerts/), its append-only timeline, the notification outbox,
-- silences and maintenance windows, and escalation policies per station.
-- `data` holds the whole alert as JSON (authoritative, exact floats); the other columns
-- are copies for queries. `open_key` is subject|kind while the alert is not resolved and
-- NULL after: the unique index keeps one unresolved alert per resident (or device) and kind.
CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    open_key      TEXT,
    kind          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    priority      TEXT NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    category      TEXT NOT NULL CHECK (category IN ('clinical', 'technical')),
    resident_id   TEXT,
    device_id     TEXT,
    station_id    TEXT,
    opened_at     REAL NOT NULL,
    updated_at    REAL NOT NULL,
    next_deadline REAL,
    data          TEXT NOT NULL
);
CREATE UNIQUE INDEX alerts_open_key_idx ON alerts (open_key);
CREATE INDEX alerts_station_idx ON alerts (station_id, state, opened_at);
CREATE INDEX alerts_resident_idx ON alerts (resident_id, opened_at);
CREATE INDEX alerts_state_idx ON alerts (state, next_deadline);

-- Append-only: the store offers no way to change or delete an entry.
CREATE TABLE alert_timeline (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    TEXT NOT NULL,
    resident_id TEXT,
    at          REAL NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_timeline_alert_idx ON alert_timeline (alert_id, at);
CREATE INDEX alert_timeline_resident_idx ON alert_timeline (resident_id, at);

-- The outbox: written in the same transaction as the escalation step that creates it, so a
-- restart neither forgets nor repeats a round. `key` is the idempotency key.
CREATE TABLE alert_notifications (
    key        TEXT PRIMARY KEY,
    alert_id   TEXT NOT NULL,
    round      TEXT NOT NULL,
    target     TEXT NOT NULL,
    channel    TEXT NOT NULL,
    contact_id TEXT,
    language   TEXT NOT NULL DEFAULT 'zh-CN',
    state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    due_at     REAL NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    sent_at    REAL
);
CREATE INDEX alert_notifications_due_idx ON alert_notifications (state, due_at);
CREATE INDEX alert_notifications_alert_idx ON alert_notifications (alert_id, created_at);

CREATE TABLE alert_silences (
    id             TEXT PRIMARY KEY,
    start_at       REAL NOT NULL,
    end_at         REAL NOT NULL,
    author         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    resident_id    TEXT,
    device_id      TEXT,
    kind           TEXT,
    station_id     TEXT,
    technical_only INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL,
    cancelled_at   REAL,
    cancelled_by   TEXT,
    CHECK (end_at > start_at)
);
CREATE INDEX alert_silences_end_idx ON alert_silences (end_at);

CREATE TABLE escalation_policies (
    station_id TEXT PRIMARY KEY,
    policy     TEXT NOT NULL,
    updated_at REAL NOT NULL
);
