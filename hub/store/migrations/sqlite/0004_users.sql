-- Dashboard users, their browser sessions and API tokens (dashboard/).
-- `role` decides what a user may see; `scope_id` is the city, district, station or vendor
-- the role applies to (NULL for family members, who are linked to residents instead).
-- Session ids and API tokens are stored as SHA-256 hashes: a database dump reveals none.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('city_admin', 'district_admin',
                  'station_supervisor', 'station_staff', 'family', 'vendor')),
    scope_id      TEXT,
    password_hash TEXT NOT NULL,
    language      TEXT NOT NULL DEFAULT 'zh-CN',
    timezone      TEXT NOT NULL DEFAULT 'Asia/Shanghai',
    disabled      INTEGER NOT NULL DEFAULT 0,
    prefs         TEXT NOT NULL DEFAULT '{}',
    created_at    REAL NOT NULL
);
CREATE INDEX users_scope_idx ON users (role, scope_id);

CREATE TABLE user_residents (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resident_id TEXT NOT NULL,
    PRIMARY KEY (user_id, resident_id)
);
CREATE INDEX user_residents_resident_idx ON user_residents (resident_id);

CREATE TABLE user_sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);
