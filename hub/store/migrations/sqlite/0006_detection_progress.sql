-- Durable detection: what a restarted hub must look at again.
-- progress: named watermarks. 'detection' is the receive time up to which every stored
-- message has been through the detectors and every finding from it reached the alert
-- engine; a restarted hub replays the messages received after it (hub/runtime/replay.py).
CREATE TABLE progress (
    name  TEXT PRIMARY KEY,
    value DOUBLE PRECISION NOT NULL
);
-- handled_at: when the alert engine took the finding in. A finding stored but not handled
-- (the hub stopped in between) is fed to the engine again at start.
ALTER TABLE findings ADD COLUMN handled_at REAL;
-- findings from before this migration were handled by the engine that ran then
UPDATE findings SET handled_at = detected_at;
CREATE INDEX findings_unhandled_idx ON findings (detected_at) WHERE handled_at IS NULL;
