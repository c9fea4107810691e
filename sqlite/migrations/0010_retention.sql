-- 0010: legal holds (a held call is never deleted) and deletion intents.
-- A deletion is written to deletions before the call's files are removed;
-- the call's row, its intent and the audit entry go in one transaction
-- once the files are gone, and an intent left by a crash is carried out at
-- the next start. files is a JSON array of paths relative to the data
-- directory.
CREATE TABLE legal_holds (
	call_id TEXT    NOT NULL PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
	actor   TEXT    NOT NULL,
	at_ns   INTEGER NOT NULL,
	reason  TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE deletions (
	call_id TEXT    NOT NULL PRIMARY KEY,
	at_ns   INTEGER NOT NULL,
	actor   TEXT    NOT NULL,
	remote  TEXT    NOT NULL,
	reason  TEXT    NOT NULL,
	files   TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
