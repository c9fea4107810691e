-- 0002: accounts of the web UI and API (users, sessions, API tokens), the
-- audit trail, and an index for the duration filter and sort. Secrets are
-- stored as the hex SHA-256 of the session identifier or token.
CREATE INDEX calls_duration ON calls (duration_ns, id);

CREATE TABLE users (
	name          TEXT    NOT NULL PRIMARY KEY,
	role          TEXT    NOT NULL,
	extensions    TEXT    NOT NULL, -- JSON array
	password_hash TEXT    NOT NULL, -- argon2id PHC string; '' = no password login
	created_ns    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
	id_hash    TEXT    NOT NULL PRIMARY KEY,
	user       TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	csrf       TEXT    NOT NULL,
	created_ns INTEGER NOT NULL,
	expires_ns INTEGER NOT NULL,
	remote     TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user);
CREATE INDEX sessions_expires ON sessions (expires_ns);

CREATE TABLE tokens (
	id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	user         TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	hash         TEXT    NOT NULL UNIQUE,
	created_ns   INTEGER NOT NULL,
	last_used_ns INTEGER
) STRICT;

CREATE INDEX tokens_user ON tokens (user);

-- The audit trail outlives users: user is a name, not a reference.
CREATE TABLE audit (
	id      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	at_ns   INTEGER NOT NULL,
	user    TEXT    NOT NULL,
	action  TEXT    NOT NULL,
	call_id TEXT    NOT NULL,
	remote  TEXT    NOT NULL,
	detail  TEXT    NOT NULL
) STRICT;

CREATE INDEX audit_at ON audit (at_ns);
CREATE INDEX audit_user ON audit (user, id);
CREATE INDEX audit_action ON audit (action, id);
