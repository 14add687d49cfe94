-- Dashboard users, their browser sessions and API tokens (dashboard/).
-- `role` decides what a user may see; `scope_id` is the city, district, station or vendor
-- the role applies to (NULL for family members, who are linked to residents instead).
-- Session ids and API tokens are stored as SHA-256 hashes: a database dump reveals none.
CREATE TABLE users (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('city_admin', 'district_admin',
                  'station_supervisor', 'station_staff', 'family', 'vendor')),
    scope_id      text,
    password_hash text NOT NULL,
    language      text NOT NULL DEFAULT 'zh-CN',
    timezone      text NOT NULL DEFAULT 'Asia/Shanghai',
    disabled      boolean NOT NULL DEFAULT false,
    prefs         jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL
);
CREATE INDEX users_scope_idx ON users (role, scope_id);

CREATE TABLE user_residents (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resident_id text NOT NULL,
    PRIMARY KEY (user_id, resident_id)
);
CREATE INDEX user_residents_resident_idx ON user_residents (resident_id);

CREATE TABLE user_sessions (
    id_hash    text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

CREATE TABLE api_tokens (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
