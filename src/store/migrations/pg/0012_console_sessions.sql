-- Web console sessions (issue 14). The cookie's value is kept only as its SHA-256, as tokens are; the CSRF
-- token is not a credential by itself (it opens nothing without the cookie), so it is kept as issued.
CREATE TABLE console_sessions (
    session_hash TEXT PRIMARY KEY,
    csrf_token   TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
