-- Dashboards on other nodes (carehub serve --dashboard-only, and any dashboard beside
-- cluster workers) follow what any process commits: every change below sends a NOTIFY on
-- channel carehub_changes from inside the committing transaction, so it is delivered at
-- commit, and only then, to every listening connection. Payloads carry ids only (the
-- limit is 8000 bytes); the dashboard re-reads the rows (hub.store.postgres.listen).
--
--   a <change_seq> <alert id>    an alert inserted or updated
--   t <entry id> <alert id>      an alert timeline entry appended
--   d <online> <device id>       a device went online (t) or offline (f)
--   r                            stations, residents or devices changed (the registry)
--
-- change_seq numbers alert changes: a dashboard whose listening connection dropped
-- resyncs by re-reading the alerts changed since the last number it saw.
CREATE SEQUENCE alert_change_seq;
ALTER TABLE alerts ADD COLUMN change_seq bigint NOT NULL DEFAULT 0;
CREATE INDEX alerts_change_seq_idx ON alerts (change_seq);

CREATE FUNCTION carehub_alert_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval('alert_change_seq');
    RETURN NEW;
END
$$;
CREATE TRIGGER alerts_change_seq BEFORE INSERT OR UPDATE ON alerts
    FOR EACH ROW EXECUTE FUNCTION carehub_alert_seq();

CREATE FUNCTION carehub_alert_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('carehub_changes', 'a ' || NEW.change_seq || ' ' || NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER alerts_notify AFTER INSERT OR UPDATE ON alerts
    FOR EACH ROW EXECUTE FUNCTION carehub_alert_notify();

CREATE FUNCTION carehub_timeline_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('carehub_changes', 't ' || NEW.id || ' ' || NEW.alert_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER alert_timeline_notify AFTER INSERT ON alert_timeline
    FOR EACH ROW EXECUTE FUNCTION carehub_timeline_notify();

CREATE FUNCTION carehub_status_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('carehub_changes',
                      'd ' || CASE WHEN NEW.online THEN 't' ELSE 'f' END || ' ' || NEW.device_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER status_log_notify AFTER INSERT ON status_log
    FOR EACH ROW EXECUTE FUNCTION carehub_status_notify();

-- one NOTIFY per statement (PostgreSQL folds identical ones of a transaction into one)
CREATE FUNCTION carehub_registry_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('carehub_changes', 'r');
    RETURN NULL;
END
$$;
CREATE TRIGGER stations_notify AFTER INSERT OR UPDATE OR DELETE ON stations
    FOR EACH STATEMENT EXECUTE FUNCTION carehub_registry_notify();
CREATE TRIGGER residents_notify AFTER INSERT OR UPDATE OR DELETE ON residents
    FOR EACH STATEMENT EXECUTE FUNCTION carehub_registry_notify();
-- not on the columns a device's status message updates (firmware, model, capabilities...)
CREATE TRIGGER devices_notify AFTER INSERT OR DELETE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION carehub_registry_notify();
CREATE TRIGGER devices_bound_notify AFTER UPDATE OF resident_id, gateway_id, kind, enabled
    ON devices FOR EACH STATEMENT EXECUTE FUNCTION carehub_registry_notify();

-- Cluster workers: the slow detector models of one partition (the residents' activity
-- routines, the heart-rate drift baselines), with the partition's last stream sequence
-- through detection when they were taken, written under the partition's epoch (fenced). A
-- worker claiming the partition loads them and replays the stream only after stream_seq.
CREATE TABLE partition_snapshot (
    partition  integer PRIMARY KEY,
    epoch      bigint NOT NULL,
    stream_seq bigint NOT NULL,
    taken_at   timestamptz NOT NULL,
    state      json NOT NULL
);

-- Connectivity storms seen by several cluster workers: each worker's detectors see only the
-- devices of its partitions, so a station's storm is reported by every worker holding some
-- of its residents. One row per (storm, worker); the storm's one alert counts their
-- devices, and clears when the last worker's part of it cleared (alerts.storm_groups).
CREATE TABLE storm_sources (
    storm_key text NOT NULL,
    source    text NOT NULL,
    devices   integer NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (storm_key, source)
);
