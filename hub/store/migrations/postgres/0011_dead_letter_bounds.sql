-- A dead letter keeps at most a prefix of a large payload, with the whole payload's size
-- and SHA-256 (both NULL when the payload is kept whole). Retention deletes by age.
ALTER TABLE dead_letters ADD COLUMN payload_size bigint;
ALTER TABLE dead_letters ADD COLUMN payload_sha256 text;
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);
