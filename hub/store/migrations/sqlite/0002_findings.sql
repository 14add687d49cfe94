-- Findings: what the detectors noticed, per resident and device, before the alert engine
-- decides what to open. Kept as a history (the alert engine links to them as evidence).
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    resident_id TEXT,
    device_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    priority    TEXT NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    at          REAL NOT NULL,
    detected_at REAL NOT NULL,
    evidence    TEXT NOT NULL DEFAULT '{}',
    reason      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX findings_resident_idx ON findings (resident_id, detected_at);
CREATE INDEX findings_device_idx ON findings (device_id, detected_at);
CREATE INDEX findings_detected_idx ON findings (detected_at);
