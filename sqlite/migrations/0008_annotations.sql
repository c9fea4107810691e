-- 0008: what people add to a call (tags and notes, each with who and when),
-- and each stream's mean interarrival jitter (0 for streams indexed before).
-- Both tables hang off calls: PutCall's upsert keeps them, deleting the call
-- deletes them.
ALTER TABLE streams ADD COLUMN mean_jitter_ms REAL DEFAULT 0;
CREATE TABLE call_tags (
	call_id TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	tag     TEXT    NOT NULL,
	author  TEXT    NOT NULL,
	at_ns   INTEGER NOT NULL,
	PRIMARY KEY (call_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX call_tags_tag ON call_tags (tag, call_id);
CREATE TABLE call_notes (
	id      INTEGER PRIMARY KEY,
	call_id TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	author  TEXT    NOT NULL,
	at_ns   INTEGER NOT NULL,
	text    TEXT    NOT NULL
) STRICT;
CREATE INDEX call_notes_call ON call_notes (call_id, id);
