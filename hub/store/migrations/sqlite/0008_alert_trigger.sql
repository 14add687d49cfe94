-- The finding that opened an alert: device, kind and event time (hub.store.base.finding_key).
-- Unique over all alerts, resolved or not, so a finding the engine takes in twice (fed again
-- after a restart because its handled_at was not yet written) never opens a second alert:
-- the engine inserts with ON CONFLICT (trigger_key) DO NOTHING and uses the alert that is
-- there. Alerts opened before this migration have none (NULLs never collide).
ALTER TABLE alerts ADD COLUMN trigger_key TEXT;
CREATE UNIQUE INDEX alerts_trigger_key_idx ON alerts (trigger_key);
