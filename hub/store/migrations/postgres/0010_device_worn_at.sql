-- Where a wearable is worn (wrist, waist, chest, neck): provisioned, or declared in the
-- device's status (`worn_at`). The fall detector scores each position with its own
-- model; NULL leaves the choice to the device kind.
ALTER TABLE devices ADD COLUMN worn_at text;
