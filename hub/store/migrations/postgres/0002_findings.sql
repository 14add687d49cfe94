-- Findings: what the detectors noticed, per resident and device, before the alert engine
-- decides what to open. Kept as a history (the alert engine links to them as evidence).
CREATE TABLE findings (
    id          bigserial PRIMARY KEY,
    resident_id text,
    device_id   text NOT NULL,
    kind        text NOT NULL,
    priority    text NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    at          timestamptz NOT NULL,
    detected_at timestamptz NOT NULL,
    evidence    jsonb NOT NULL DEFAULT '{}',
    reason      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX findings_resident_idx ON findings (resident_id, detected_at);
CREATE INDEX findings_device_idx ON findings (device_id, detected_at);
CREATE INDEX findings_detected_idx ON findings (detected_at);
