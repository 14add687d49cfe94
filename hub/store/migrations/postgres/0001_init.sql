-- carehub schema v1 for PostgreSQL: registry, device presence, ingested data.
-- Times are timestamptz. Accelerometer bursts, quality, ext and event data are `json`
-- (stored as text, written by COPY without re-parsing: jsonb made COPY of accelerometer
-- bursts about 4x slower); small registry metadata is `jsonb`; payloads are `bytea`.
-- Telemetry, events and logs carry no foreign key to devices: ingest must never lose a
-- batch because of a registry change, and the pipeline only writes registered devices.
-- Unique keys on telemetry include the time column so that the table can become a
-- TimescaleDB hypertable (see ../timescale/0001_timescale.sql).

CREATE TABLE cities (
    id   text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE districts (
    id      text PRIMARY KEY,
    city_id text NOT NULL REFERENCES cities (id),
    name    text NOT NULL,
    kind    text NOT NULL DEFAULT 'district' CHECK (kind IN ('district', 'county'))
);
CREATE INDEX districts_city_idx ON districts (city_id);

CREATE TABLE stations (
    id          text PRIMARY KEY,
    district_id text NOT NULL REFERENCES districts (id),
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'service_station'
                CHECK (kind IN ('service_station', 'day_care', 'mutual_aid')),
    address     text,
    lat         double precision,
    lon         double precision,
    timezone    text NOT NULL DEFAULT 'Asia/Shanghai'
);
CREATE INDEX stations_district_idx ON stations (district_id);

CREATE TABLE residents (
    id         text PRIMARY KEY,
    station_id text NOT NULL REFERENCES stations (id),
    name       text NOT NULL,
    address    text,
    lat        double precision,
    lon        double precision,
    birth_year integer,
    status     text NOT NULL DEFAULT 'home'
               CHECK (status IN ('home', 'away', 'hospital', 'inactive')),
    clinical   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX residents_station_idx ON residents (station_id);

CREATE TABLE contacts (
    id          text PRIMARY KEY,
    resident_id text NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    name        text NOT NULL,
    relation    text,
    phone       text,
    channels    jsonb NOT NULL DEFAULT '[]',
    prefs       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX contacts_resident_idx ON contacts (resident_id);

CREATE TABLE devices (
    id           text PRIMARY KEY,
    kind         text NOT NULL,
    vendor       text,
    model        text,
    firmware     text,
    capabilities jsonb NOT NULL DEFAULT '[]',
    resident_id  text REFERENCES residents (id) ON DELETE SET NULL,
    gateway_id   text REFERENCES devices (id) ON DELETE SET NULL,
    interval_s   double precision,
    enabled      boolean NOT NULL DEFAULT true,
    secret_hash  text,
    created_at   timestamptz NOT NULL
);
CREATE INDEX devices_resident_idx ON devices (resident_id);
CREATE INDEX devices_gateway_idx ON devices (gateway_id);

CREATE TABLE device_state (
    device_id      text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    online         boolean,
    changed_at     timestamptz,
    last_seen_at   timestamptz,
    last_seq       bigint,
    boot           bigint,
    clock_offset_s double precision
);

CREATE TABLE unprovisioned (
    device_id  text PRIMARY KEY,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    count      bigint NOT NULL,
    last_topic text NOT NULL,
    gateway_id text
);

-- The key drops redelivered messages (same device, device time and seq); seq alone is not
-- unique because it restarts with a new boot. It also serves queries by (device_id, ts).
CREATE TABLE telemetry (
    device_id   text NOT NULL,
    seq         bigint NOT NULL,
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    hr          double precision,
    spo2        double precision,
    rr          double precision,
    temp        double precision,
    sbp         double precision,
    dbp         double precision,
    glucose     double precision,
    battery     double precision,
    rssi        double precision,
    room_temp   double precision,
    humidity    double precision,
    quality     json,
    acc         json,
    ext         json,
    CONSTRAINT telemetry_pkey PRIMARY KEY (device_id, ts, seq)
);
CREATE INDEX telemetry_received_idx ON telemetry (received_at);

CREATE TABLE events (
    device_id   text NOT NULL,
    seq         bigint NOT NULL,
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    type        text NOT NULL,
    data        json NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (device_id, ts, seq)
);
CREATE INDEX events_received_idx ON events (received_at);
CREATE INDEX events_device_received_idx ON events (device_id, received_at);

CREATE TABLE dead_letters (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL,
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    code        text NOT NULL,
    detail      text NOT NULL,
    device_id   text
);
CREATE INDEX dead_letters_code_idx ON dead_letters (code);
CREATE INDEX dead_letters_device_idx ON dead_letters (device_id);

CREATE TABLE status_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id text NOT NULL,
    online    boolean NOT NULL,
    at        timestamptz NOT NULL,
    source    text NOT NULL,
    info      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX status_log_device_at_idx ON status_log (device_id, at);

CREATE TABLE command_replies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   text NOT NULL,
    command_id  text NOT NULL,
    ts          timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    status      text NOT NULL,
    detail      text
);
CREATE INDEX command_replies_device_idx ON command_replies (device_id, command_id);
