-- Community services (docs/services.md): each station's catalogue of services, its care
-- workers (skills, weekly working hours in the station's time zone, last reported
-- position), orders of a service for a resident at a time, and every order's audit trail.
-- Money is kept in integer cents (fen), never as floating point.
CREATE TABLE services (
    id            TEXT PRIMARY KEY,
    station_id    TEXT NOT NULL REFERENCES stations (id),
    kind          TEXT NOT NULL CHECK (kind IN ('meal_delivery', 'bathing', 'checkup',
                  'cleaning', 'companionship', 'emergency_visit')),
    name          TEXT NOT NULL,
    duration_min  INTEGER NOT NULL CHECK (duration_min > 0 AND duration_min <= 1440),
    price_cents   INTEGER NOT NULL CHECK (price_cents >= 0),
    subsidy_cents INTEGER NOT NULL DEFAULT 0 CHECK (subsidy_cents >= 0),
    skills        TEXT NOT NULL DEFAULT '[]',
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    REAL NOT NULL
);
CREATE INDEX services_station_idx ON services (station_id, kind);

CREATE TABLE care_workers (
    id          TEXT PRIMARY KEY,
    station_id  TEXT NOT NULL REFERENCES stations (id),
    name        TEXT NOT NULL,
    user_id     TEXT UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    phone       TEXT,
    skills      TEXT NOT NULL DEFAULT '[]',
    hours       TEXT NOT NULL DEFAULT '{}',
    lat         REAL,
    lon         REAL,
    position_at REAL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  REAL NOT NULL
);
CREATE INDEX care_workers_station_idx ON care_workers (station_id);

CREATE TABLE service_orders (
    id            TEXT PRIMARY KEY,
    station_id    TEXT NOT NULL REFERENCES stations (id),
    resident_id   TEXT NOT NULL REFERENCES residents (id),
    service_id    TEXT NOT NULL REFERENCES services (id),
    kind          TEXT NOT NULL,
    scheduled_at  REAL NOT NULL,
    duration_min  INTEGER NOT NULL CHECK (duration_min > 0),
    status        TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'accepted', 'arrived',
                  'done', 'cancelled')),
    worker_id     TEXT REFERENCES care_workers (id),
    alert_id      TEXT UNIQUE,
    price_cents   INTEGER NOT NULL,
    subsidy_cents INTEGER NOT NULL,
    notes         TEXT,
    created_by    TEXT NOT NULL,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE INDEX service_orders_station_idx ON service_orders (station_id, scheduled_at);
CREATE INDEX service_orders_worker_idx ON service_orders (worker_id, scheduled_at);

CREATE TABLE service_order_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id    TEXT NOT NULL REFERENCES service_orders (id) ON DELETE CASCADE,
    at          REAL NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    worker_id   TEXT,
    lat         REAL,
    lon         REAL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX service_order_events_order_idx ON service_order_events (order_id, id);
