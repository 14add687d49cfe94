-- Community services (docs/services.md): each station's catalogue of services, its care
-- workers (skills, weekly working hours in the station's time zone, last reported
-- position), orders of a service for a resident at a time, and every order's audit trail.
-- Money is kept in integer cents (fen), never as floating point.
CREATE TABLE services (
    id            text PRIMARY KEY,
    station_id    text NOT NULL REFERENCES stations (id),
    kind          text NOT NULL CHECK (kind IN ('meal_delivery', 'bathing', 'checkup',
                  'cleaning', 'companionship', 'emergency_visit')),
    name          text NOT NULL,
    duration_min  integer NOT NULL CHECK (duration_min > 0 AND duration_min <= 1440),
    price_cents   bigint NOT NULL CHECK (price_cents >= 0),
    subsidy_cents bigint NOT NULL DEFAULT 0 CHECK (subsidy_cents >= 0),
    skills        jsonb NOT NULL DEFAULT '[]',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL
);
CREATE INDEX services_station_idx ON services (station_id, kind);

CREATE TABLE care_workers (
    id          text PRIMARY KEY,
    station_id  text NOT NULL REFERENCES stations (id),
    name        text NOT NULL,
    user_id     text UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    phone       text,
    skills      jsonb NOT NULL DEFAULT '[]',
    hours       jsonb NOT NULL DEFAULT '{}',
    lat         double precision,
    lon         double precision,
    position_at timestamptz,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL
);
CREATE INDEX care_workers_station_idx ON care_workers (station_id);

CREATE TABLE service_orders (
    id            text PRIMARY KEY,
    station_id    text NOT NULL REFERENCES stations (id),
    resident_id   text NOT NULL REFERENCES residents (id),
    service_id    text NOT NULL REFERENCES services (id),
    kind          text NOT NULL,
    scheduled_at  timestamptz NOT NULL,
    duration_min  integer NOT NULL CHECK (duration_min > 0),
    status        text NOT NULL CHECK (status IN ('open', 'assigned', 'accepted', 'arrived',
                  'done', 'cancelled')),
    worker_id     text REFERENCES care_workers (id),
    alert_id      text UNIQUE,
    price_cents   bigint NOT NULL,
    subsidy_cents bigint NOT NULL,
    notes         text,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX service_orders_station_idx ON service_orders (station_id, scheduled_at);
CREATE INDEX service_orders_worker_idx ON service_orders (worker_id, scheduled_at);

CREATE TABLE service_order_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    text NOT NULL REFERENCES service_orders (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    from_status text,
    to_status   text NOT NULL,
    worker_id   text,
    lat         double precision,
    lon         double precision,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX service_order_events_order_idx ON service_order_events (order_id, id);
