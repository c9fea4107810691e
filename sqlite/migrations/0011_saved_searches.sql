-- 0011: each user's saved searches of the call list: a name and the query
-- string of GET /api/calls. They go with their user.
CREATE TABLE saved_searches (
	id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	user       TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	query      TEXT    NOT NULL,
	created_ns INTEGER NOT NULL,
	UNIQUE (user, name)
) STRICT;
