-- Messages a device numbered (seq) that never reached the hub, counted once certainly lost
-- (hub/ingest/gaps.py). Kept with the device's state so the count survives a restart; it
-- only goes up. (Numbered 0007: 0006 is taken by another change.)
ALTER TABLE device_state ADD COLUMN telemetry_gaps INTEGER NOT NULL DEFAULT 0;
