-- A station may leave its time zone unset: it then follows the hub's default
-- (CAREHUB_DEFAULT_TIMEZONE) instead of a zone written into the schema. Stations that have
-- one keep it.
ALTER TABLE stations ALTER COLUMN timezone DROP NOT NULL;
ALTER TABLE stations ALTER COLUMN timezone DROP DEFAULT;
