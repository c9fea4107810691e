-- 0004: each user's saved searches of the call list: a name and the query
-- string of GET /api/calls. They go with their user (sqlite 0011).
CREATE TABLE saved_searches (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_name  text   COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
	name       text   COLLATE "C" NOT NULL,
	query      text   COLLATE "C" NOT NULL,
	created_ns bigint NOT NULL,
	UNIQUE (user_name, name)
);
