-- A station may leave its time zone unset: it then follows the hub's default
-- (CAREHUB_DEFAULT_TIMEZONE) instead of a zone written into the schema. Stations that have
-- one keep it. SQLite cannot drop NOT NULL in place, so the column is copied.
ALTER TABLE stations ADD COLUMN timezone_new TEXT;
UPDATE stations SET timezone_new = timezone;
ALTER TABLE stations DROP COLUMN timezone;
ALTER TABLE stations RENAME COLUMN timezone_new TO timezone;
