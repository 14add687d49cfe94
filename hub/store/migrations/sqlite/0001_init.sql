-- carehub schema v1 for SQLite: registry, device presence, ingested data.
-- Times are REAL seconds since the Unix epoch (UTC); JSON is TEXT; payloads are BLOB.
-- Telemetry, events and logs carry no foreign key to devices: ingest must never lose a
-- batch because of a registry change, and the pipeline only writes registered devices.

CREATE TABLE cities (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE districts (
    id      TEXT PRIMARY KEY,
    city_id TEXT NOT NULL REFERENCES cities (id),
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL DEFAULT 'district' CHECK (kind IN ('district', 'county'))
);
CREATE INDEX districts_city_idx ON districts (city_id);

CREATE TABLE stations (
    id          TEXT PRIMARY KEY,
    district_id TEXT NOT NULL REFERENCES districts (id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'service_station'
                CHECK (kind IN ('service_station', 'day_care', 'mutual_aid')),
    address     TEXT,
    lat         REAL,
    lon         REAL,
    timezone    TEXT NOT NULL DEFAULT 'Asia/Shanghai'
);
CREATE INDEX stations_district_idx ON stations (district_id);

CREATE TABLE residents (
    id         TEXT PRIMARY KEY,
    station_id TEXT NOT NULL REFERENCES stations (id),
    name       TEXT NOT NULL,
    address    TEXT,
    lat        REAL,
    lon        REAL,
    birth_year INTEGER,
    status     TEXT NOT NULL DEFAULT 'home'
               CHECK (status IN ('home', 'away', 'hospital', 'inactive')),
    clinical   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX residents_station_idx ON residents (station_id);

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    relation    TEXT,
    phone       TEXT,
    channels    TEXT NOT NULL DEFAULT '[]',
    prefs       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX contacts_resident_idx ON contacts (resident_id);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    vendor       TEXT,
    model        TEXT,
    firmware     TEXT,
    capabilities TEXT NOT NULL DEFAULT '[]',
    resident_id  TEXT REFERENCES residents (id) ON DELETE SET NULL,
    gateway_id   TEXT REFERENCES devices (id) ON DELETE SET NULL,
    interval_s   REAL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    secret_hash  TEXT,
    created_at   REAL NOT NULL
);
CREATE INDEX devices_resident_idx ON devices (resident_id);
CREATE INDEX devices_gateway_idx ON devices (gateway_id);

CREATE TABLE device_state (
    device_id      TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    online         INTEGER,
    changed_at     REAL,
    last_seen_at   REAL,
    last_seq       INTEGER,
    boot           INTEGER,
    clock_offset_s REAL
);

CREATE TABLE unprovisioned (
    device_id  TEXT PRIMARY KEY,
    first_seen REAL NOT NULL,
    last_seen  REAL NOT NULL,
    count      INTEGER NOT NULL,
    last_topic TEXT NOT NULL,
    gateway_id TEXT
);

-- The unique key drops redelivered messages (same device, device time and seq); seq alone
-- is not unique because it restarts with a new boot.
CREATE TABLE telemetry (
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    ts          REAL NOT NULL,
    received_at REAL NOT NULL,
    hr          REAL,
    spo2        REAL,
    rr          REAL,
    temp        REAL,
    sbp         REAL,
    dbp         REAL,
    glucose     REAL,
    battery     REAL,
    rssi        REAL,
    room_temp   REAL,
    humidity    REAL,
    quality     TEXT,
    acc         TEXT,
    ext         TEXT
);
CREATE UNIQUE INDEX telemetry_device_ts_seq_key ON telemetry (device_id, ts, seq);
CREATE INDEX telemetry_received_idx ON telemetry (received_at);

CREATE TABLE events (
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    ts          REAL NOT NULL,
    received_at REAL NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX events_device_ts_seq_key ON events (device_id, ts, seq);
CREATE INDEX events_received_idx ON events (received_at);
CREATE INDEX events_device_received_idx ON events (device_id, received_at);

CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    topic       TEXT NOT NULL,
    payload     BLOB NOT NULL,
    code        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    device_id   TEXT
);
CREATE INDEX dead_letters_code_idx ON dead_letters (code);
CREATE INDEX dead_letters_device_idx ON dead_letters (device_id);

CREATE TABLE status_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    online    INTEGER NOT NULL,
    at        REAL NOT NULL,
    source    TEXT NOT NULL,
    info      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX status_log_device_at_idx ON status_log (device_id, at);

CREATE TABLE command_replies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id   TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    ts          REAL NOT NULL,
    received_at REAL NOT NULL,
    status      TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX command_replies_device_idx ON command_replies (device_id, command_id);
